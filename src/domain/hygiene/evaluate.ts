/**
 * Findings from one account's credential state. Takes `now` so "90 days old" is a question of
 * arithmetic, not of when the test or the job happens to run.
 */
import type {
  AccessKeyRecord,
  AccountCredentialState,
  AccountPasswordPolicy,
  CredentialReportRow,
  Finding,
  HygieneThresholds,
  PasswordPolicyMinimum,
} from './types.js';

const DAY_MS = 86_400_000;

export function daysBetween(from: Date, to: Date): number {
  return Math.floor((to.getTime() - from.getTime()) / DAY_MS);
}

export function keyFindingId(
  kind: string,
  accountId: string,
  userName: string,
  key: AccessKeyRecord,
): string {
  return `${kind}:${accountId}:${userName}:${key.slot}:${key.createdAt.toISOString()}`;
}

function keyRef(key: AccessKeyRecord) {
  return {
    slot: key.slot,
    createdAt: key.createdAt.toISOString(),
    lastUsedAt: key.lastUsedAt?.toISOString(),
    neverUsed: key.lastUsedAt === undefined,
  };
}

function userFindings(
  accountId: string,
  row: CredentialReportRow,
  t: HygieneThresholds,
  now: Date,
): Finding[] {
  const out: Finding[] = [];
  const base = { accountId, userName: row.userName, userArn: row.arn };
  // Inactive keys are already harmless: no reminder, nothing to deactivate.
  for (const key of row.accessKeys.filter((k) => k.active)) {
    const age = daysBetween(key.createdAt, now);
    const idle = key.lastUsedAt ? daysBetween(key.lastUsedAt, now) : age;
    if (idle >= t.unusedKeyDays) {
      out.push({
        ...base,
        id: keyFindingId('unused-key', accountId, row.userName, key),
        kind: 'unused-key',
        key: keyRef(key),
        days: idle,
        detail: key.lastUsedAt
          ? `access key ${key.slot} unused for ${idle} days`
          : `access key ${key.slot} never used, created ${age} days ago`,
      });
    }
    if (age >= t.rotationDays) {
      out.push({
        ...base,
        id: keyFindingId('key-past-rotation', accountId, row.userName, key),
        kind: 'key-past-rotation',
        key: keyRef(key),
        days: age,
        detail: `access key ${key.slot} is ${age} days old (rotate every ${t.rotationDays})`,
      });
    }
  }
  if (row.passwordEnabled) {
    const since = row.passwordLastUsedAt ?? row.passwordLastChangedAt ?? row.createdAt;
    const idle = since ? daysBetween(since, now) : undefined;
    if (idle !== undefined && idle >= t.unusedPasswordDays) {
      out.push({
        ...base,
        id: `unused-password:${accountId}:${row.userName}`,
        kind: 'unused-password',
        days: idle,
        detail: row.passwordLastUsedAt
          ? `console password unused for ${idle} days`
          : `console password never used, set ${idle} days ago`,
      });
    }
    if (!row.mfaActive) {
      out.push({
        ...base,
        id: `console-without-mfa:${accountId}:${row.userName}`,
        kind: 'console-without-mfa',
        detail: 'console password without MFA',
      });
    }
  }
  return out;
}

/** What is weaker than the configured minimum, in words; empty when the policy is sound. */
export function passwordPolicyWeaknesses(
  policy: AccountPasswordPolicy,
  minimum: PasswordPolicyMinimum,
): string[] {
  const weak: string[] = [];
  if ((policy.minimumLength ?? 0) < minimum.minimumLength)
    weak.push(`minimum length ${policy.minimumLength ?? 0} < ${minimum.minimumLength}`);
  if (minimum.requireSymbols && !policy.requireSymbols) weak.push('symbols not required');
  if (minimum.requireNumbers && !policy.requireNumbers) weak.push('numbers not required');
  if (minimum.requireUppercase && !policy.requireUppercase) weak.push('uppercase not required');
  if (minimum.requireLowercase && !policy.requireLowercase) weak.push('lowercase not required');
  if (minimum.maxAgeDays > 0) {
    const age = policy.maxAgeDays ?? 0;
    if (age === 0) weak.push(`passwords never expire (maximum ${minimum.maxAgeDays} days)`);
    else if (age > minimum.maxAgeDays) weak.push(`maximum age ${age} > ${minimum.maxAgeDays} days`);
  }
  if ((policy.reusePrevention ?? 0) < minimum.reusePrevention)
    weak.push(`reuse prevention ${policy.reusePrevention ?? 0} < ${minimum.reusePrevention}`);
  return weak;
}

export function evaluateAccount(state: AccountCredentialState, t: HygieneThresholds, now: Date): Finding[] {
  const { accountId } = state;
  const findings = state.report.rows.flatMap((row) => userFindings(accountId, row, t, now));
  if (state.root.accessKeysPresent) {
    findings.push({
      id: `root-access-keys:${accountId}`,
      kind: 'root-access-keys',
      accountId,
      detail: 'the root user has access keys',
    });
  }
  if (!state.root.mfaEnabled) {
    findings.push({
      id: `root-mfa-off:${accountId}`,
      kind: 'root-mfa-off',
      accountId,
      detail: 'the root user has no MFA',
    });
  }
  if (state.passwordPolicy === null) {
    findings.push({
      id: `password-policy-missing:${accountId}`,
      kind: 'password-policy-missing',
      accountId,
      detail: 'the account has no password policy',
    });
  } else {
    const weak = passwordPolicyWeaknesses(state.passwordPolicy, t.passwordPolicy);
    if (weak.length > 0) {
      findings.push({
        id: `password-policy-weak:${accountId}`,
        kind: 'password-policy-weak',
        accountId,
        detail: `password policy: ${weak.join('; ')}`,
      });
    }
  }
  return findings;
}
