/**
 * Which AWS principal a granted role trusts for a Slack user: the identity map first, then (when
 * enabled) a principal built from the Slack profile e-mail.
 */
export interface IdentitySettings {
  map: Record<string, { principal: string; email?: string }>;
  byEmail: { enabled: boolean; principalTemplate: string; identityAccountId?: string };
}

const EMAIL_RE = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/;

/** Undefined when the user has no mapping and no usable e-mail: the request is then refused. */
export function resolvePrincipal(
  settings: IdentitySettings,
  slackUserId: string,
  email: string | undefined,
): string | undefined {
  const mapped = settings.map[slackUserId];
  if (mapped) return mapped.principal;
  if (!settings.byEmail.enabled || !email || !EMAIL_RE.test(email)) return undefined;
  const vars: Record<string, string> = {
    email,
    email_local: email.split('@')[0]!,
    identity_account_id: settings.byEmail.identityAccountId ?? '',
  };
  const principal = settings.byEmail.principalTemplate.replace(
    /\$\{([a-z_]+)\}/g,
    (whole, name: string) => vars[name] ?? whole,
  );
  // A template variable left unfilled (no identity account configured) must not become a trust.
  return principal.includes('${') || !/^arn:aws[a-z-]*:(iam|sts)::\d{12}:.+/.test(principal)
    ? undefined
    : principal;
}
