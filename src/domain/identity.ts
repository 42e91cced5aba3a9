/**
 * Who a Slack user is in AWS: the principal a granted role trusts, from the identity map first,
 * then (when enabled) from the Slack profile e-mail. And whether two Slack accounts are one
 * person: the same mapped principal or the same e-mail make them one, so a second Slack account
 * can neither approve its owner's request nor count twice toward N of M.
 */
export interface IdentityEntry {
  principal: string;
  email?: string;
  /**
   * For a role shared by many people (an Identity Center permission-set role): the session name
   * this person's sessions carry, which the grant's trust policy pins.
   */
  sessionName?: string;
}

export interface IdentitySettings {
  map: Record<string, IdentityEntry>;
  byEmail: { enabled: boolean; principalTemplate: string; identityAccountId?: string };
}

/** The principal a grant trusts, pinned to one person's sessions where the principal is shared. */
export interface ResolvedPrincipal {
  principalArn: string;
  /** Set when `principalArn` is a role: the trust policy admits only sessions of this name. */
  sessionName?: string;
}

/**
 * The e-mail a person may be known by in AWS or on call: their Slack profile's, unless Slack says
 * they never confirmed it. Anyone can type any address into an unconfirmed profile, so such an
 * address names nobody: it maps to no principal, no Identity Center user and no on-call shift
 * (Slack leaving the flag out, as older user objects do, is taken as confirmed).
 */
export function confirmedEmail(
  person: { email?: string; emailConfirmed?: boolean } | undefined,
): string | undefined {
  return person?.emailConfirmed === false ? undefined : person?.email;
}

const EMAIL_RE = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/;
export const PRINCIPAL_ARN_RE =
  /^arn:aws[a-z-]*:(iam::\d{12}:(user|role)\/.+|sts::\d{12}:assumed-role\/[^/]+\/.+)$/;
/**
 * Variables the e-mail template may use. `${email_local}` is gone on purpose: alice@corp.example
 * and alice@personal.example would become one AWS user.
 */
export const PRINCIPAL_TEMPLATE_VARIABLES = ['email', 'identity_account_id'] as const;

/** A role ARN (not a user, not one assumed-role session): shared by whoever can assume it. */
export function isRoleArn(arn: string): boolean {
  return /^arn:aws[a-z-]*:iam::\d{12}:role\//.test(arn);
}

/** Undefined when the user has no mapping and no usable e-mail: the request is then refused. */
export function resolveIdentity(
  settings: IdentitySettings,
  slackUserId: string,
  email: string | undefined,
): ResolvedPrincipal | undefined {
  const mapped = settings.map[slackUserId];
  if (mapped) {
    // A shared role without a session name cannot be pinned to this person: no trust at all.
    if (isRoleArn(mapped.principal) && !mapped.sessionName) return undefined;
    return {
      principalArn: mapped.principal,
      ...(isRoleArn(mapped.principal) ? { sessionName: mapped.sessionName } : {}),
    };
  }
  if (!settings.byEmail.enabled || !email || !EMAIL_RE.test(email)) return undefined;
  const vars: Record<string, string> = {
    email,
    identity_account_id: settings.byEmail.identityAccountId ?? '',
  };
  const principal = settings.byEmail.principalTemplate.replace(
    /\$\{([a-z_]+)\}/g,
    (whole, name: string) => vars[name] ?? whole,
  );
  // A template variable left unfilled (no identity account configured) must not become a trust.
  if (principal.includes('${') || !PRINCIPAL_ARN_RE.test(principal)) return undefined;
  // Identity Center names a permission-set role's sessions after the user name (the e-mail).
  return isRoleArn(principal) ? { principalArn: principal, sessionName: email } : { principalArn: principal };
}

/** The principal ARN alone (kept for callers that only display it). */
export function resolvePrincipal(
  settings: IdentitySettings,
  slackUserId: string,
  email: string | undefined,
): string | undefined {
  return resolveIdentity(settings, slackUserId, email)?.principalArn;
}

/**
 * What identifies a person across Slack accounts: the Slack id, the resolved AWS principal (with
 * its session name when the principal is a shared role) and the e-mail, lower-cased.
 */
export function personKeys(
  settings: IdentitySettings,
  slackUserId: string,
  email: string | undefined,
): Set<string> {
  const keys = new Set<string>([`slack:${slackUserId}`]);
  const mappedEmail = settings.map[slackUserId]?.email;
  for (const e of [email, mappedEmail]) if (e) keys.add(`email:${e.trim().toLowerCase()}`);
  const resolved = resolveIdentity(settings, slackUserId, email);
  if (resolved) keys.add(principalKey(resolved.principalArn, resolved.sessionName));
  return keys;
}

/** One person's AWS identity as a key: the principal, and the session name of a shared role. */
export function principalKey(principalArn: string, sessionName?: string): string {
  return `principal:${principalArn}${sessionName ? `#${sessionName.toLowerCase()}` : ''}`;
}
