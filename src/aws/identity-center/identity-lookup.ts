/**
 * Who the requester is in IAM Identity Center: the identity map's `identityCenterUserName`
 * first, else their Slack e-mail through `GetUserId` on the unique `emails.value` attribute.
 * Nothing is granted to a user the bot cannot pin to exactly one Identity Center user: missing,
 * ambiguous (GetUserId answers ConflictException or ValidationException), or a user whose
 * e-mails do not include the one asked for.
 */
import {
  DescribeUserCommand,
  GetUserIdCommand,
  type IdentitystoreClient,
} from '@aws-sdk/client-identitystore';
import { awsCall, isAwsError, toAwsError } from '../aws-errors.js';

export interface IdentityCenterUser {
  userId: string;
  userName: string;
}

export type UserLookup =
  | { found: true; user: IdentityCenterUser }
  | { found: false; reason: 'missing' | 'ambiguous' | 'no-email'; message: string };

export interface IdentityLookupOptions {
  identitystore: IdentitystoreClient;
  identityStoreId: string;
  /** Slack user id → Identity Center user name, from `identities.map`. */
  userNames: ReadonlyMap<string, string>;
}

export async function findIdentityCenterUser(
  options: IdentityLookupOptions,
  requester: { slackUserId: string; email?: string },
): Promise<UserLookup> {
  const { identitystore, identityStoreId } = options;
  const mapped = options.userNames.get(requester.slackUserId);
  const [path, value, how] = mapped
    ? (['userName', mapped, `user name ${mapped} (identity map)`] as const)
    : (['emails.value', requester.email ?? '', `e-mail ${requester.email ?? ''}`] as const);
  if (!value) {
    return {
      found: false,
      reason: 'no-email',
      message:
        'your Slack profile has no e-mail to find your IAM Identity Center user by; ask your platform team to map you (identities.map.<you>.identityCenterUserName)',
    };
  }
  let userId: string | undefined;
  try {
    const answer = await identitystore.send(
      new GetUserIdCommand({
        IdentityStoreId: identityStoreId,
        AlternateIdentifier: { UniqueAttribute: { AttributePath: path, AttributeValue: value } },
      }),
    );
    userId = answer.UserId;
  } catch (error) {
    if (isAwsError(error, 'ResourceNotFoundException')) userId = undefined;
    else if (isAwsError(error, 'ConflictException', 'ValidationException')) {
      return ambiguous(how);
    } else throw toAwsError(error, `looking up the Identity Center user by ${how}`);
  }
  if (!userId) {
    return {
      found: false,
      reason: 'missing',
      message: `no IAM Identity Center user has your ${how}; ask your platform team to add you to Identity Center or map you (identities.map.<you>.identityCenterUserName)`,
    };
  }
  const user = await awsCall(`describing Identity Center user ${userId}`, () =>
    identitystore.send(new DescribeUserCommand({ IdentityStoreId: identityStoreId, UserId: userId })),
  );
  const userName = user.UserName;
  const emailMatches =
    path !== 'emails.value' ||
    (user.Emails ?? []).some((e) => e.Value?.toLowerCase() === value.toLowerCase());
  if (!userName || !emailMatches) return ambiguous(how);
  return { found: true, user: { userId, userName } };
}

function ambiguous(how: string): UserLookup {
  return {
    found: false,
    reason: 'ambiguous',
    message: `your ${how} does not name exactly one IAM Identity Center user; ask your platform team to map you by user name (identities.map.<you>.identityCenterUserName)`,
  };
}
