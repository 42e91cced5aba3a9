/**
 * Who owns an IAM user. In order: the `slack-user` tag (a Slack id), the `email` tag (resolved
 * through the identity map's e-mails, then Slack), the identity map (principal ARN, or the same
 * user name), else nobody — and an unowned user's findings go to the security channel.
 */
import type { Owner } from './types.js';

export const OWNER_TAG = 'slack-user';
export const EMAIL_TAG = 'email';

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;

export interface IdentityMapEntry {
  principal: string;
  email?: string;
}

export interface OwnerInput {
  userName: string;
  userArn: string;
  tags: Record<string, string>;
}

/** The IAM user name in a principal ARN (`arn:aws:iam::1:user/path/name` → `name`). */
export function principalUserName(arn: string): string | undefined {
  const match = /^arn:aws[a-z-]*:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/.exec(arn);
  return match?.[1];
}

/** E-mail addresses that need a Slack lookup (tag present, not known to the identity map). */
export function emailsToLookUp(users: OwnerInput[], identityMap: Record<string, IdentityMapEntry>): string[] {
  const known = new Set(
    Object.values(identityMap)
      .map((e) => e.email?.toLowerCase())
      .filter(Boolean),
  );
  const emails = new Set<string>();
  for (const user of users) {
    if (user.tags[OWNER_TAG] && SLACK_USER_ID.test(user.tags[OWNER_TAG])) continue;
    const email = user.tags[EMAIL_TAG]?.trim().toLowerCase();
    if (email && !known.has(email)) emails.add(email);
  }
  return [...emails].sort();
}

/**
 * @param slackIdByEmail the Slack directory's answers for {@link emailsToLookUp} (lower-case
 *   e-mail → Slack id, or undefined when Slack has no such user).
 */
export function resolveOwner(
  user: OwnerInput,
  identityMap: Record<string, IdentityMapEntry>,
  slackIdByEmail: ReadonlyMap<string, string | undefined>,
): Owner {
  const tagged = user.tags[OWNER_TAG]?.trim();
  if (tagged && SLACK_USER_ID.test(tagged)) return { kind: 'slack', slackUserId: tagged, source: 'tag' };

  const email = user.tags[EMAIL_TAG]?.trim().toLowerCase();
  const entries = Object.entries(identityMap);
  if (email) {
    const mapped = entries.find(([, e]) => e.email?.toLowerCase() === email);
    if (mapped) return { kind: 'slack', slackUserId: mapped[0], source: 'identity-map' };
    const looked = slackIdByEmail.get(email);
    if (looked) return { kind: 'slack', slackUserId: looked, source: 'email-tag' };
  }

  const byArn = entries.find(([, e]) => e.principal === user.userArn);
  if (byArn) return { kind: 'slack', slackUserId: byArn[0], source: 'identity-map' };
  const byName = entries.filter(([, e]) => principalUserName(e.principal) === user.userName);
  // Two people mapped to the same user name in different accounts: do not guess.
  if (byName.length === 1) return { kind: 'slack', slackUserId: byName[0]![0], source: 'identity-map' };

  if (tagged) return { kind: 'unowned', reason: `tag ${OWNER_TAG}="${tagged}" is not a Slack user id` };
  if (email) return { kind: 'unowned', reason: `no Slack user has the e-mail in tag ${EMAIL_TAG}` };
  if (byName.length > 1)
    return { kind: 'unowned', reason: 'several identity-map entries match the user name' };
  return { kind: 'unowned', reason: `no ${OWNER_TAG} or ${EMAIL_TAG} tag and not in the identity map` };
}
