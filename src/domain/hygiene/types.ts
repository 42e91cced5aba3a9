/**
 * The credential-hygiene vocabulary: what a credential report says about an account, what we
 * find wrong with it, and who owns each IAM user. Pure data; adapters fill it in.
 */

/** One access key slot of a credential report row (IAM allows two keys per user). */
export interface AccessKeyRecord {
  slot: 1 | 2;
  active: boolean;
  /** `access_key_N_last_rotated`: when the key was created (IAM never rotates in place). */
  createdAt: Date;
  lastUsedAt?: Date;
  lastUsedService?: string;
}

/** One IAM user as the credential report describes them. */
export interface CredentialReportRow {
  userName: string;
  arn: string;
  createdAt?: Date;
  passwordEnabled: boolean;
  passwordLastUsedAt?: Date;
  passwordLastChangedAt?: Date;
  mfaActive: boolean;
  accessKeys: AccessKeyRecord[];
}

export interface ParsedCredentialReport {
  generatedAt: Date;
  rows: CredentialReportRow[];
}

/** The two root facts GetAccountSummary answers. */
export interface RootSummary {
  accessKeysPresent: boolean;
  mfaEnabled: boolean;
}

/** The account password policy as IAM returns it; `null` when the account has none. */
export interface AccountPasswordPolicy {
  minimumLength?: number;
  requireSymbols?: boolean;
  requireNumbers?: boolean;
  requireUppercase?: boolean;
  requireLowercase?: boolean;
  /** 0 or undefined: passwords never expire. */
  maxAgeDays?: number;
  reusePrevention?: number;
}

/** The configured minimum (config `hygiene.passwordPolicy`). */
export interface PasswordPolicyMinimum {
  minimumLength: number;
  requireSymbols: boolean;
  requireNumbers: boolean;
  requireUppercase: boolean;
  requireLowercase: boolean;
  maxAgeDays: number;
  reusePrevention: number;
}

export interface HygieneThresholds {
  unusedKeyDays: number;
  rotationDays: number;
  unusedPasswordDays: number;
  passwordPolicy: PasswordPolicyMinimum;
}

/** Everything the sweep reads from one account: one report, one summary, one policy, tags. */
export interface AccountCredentialState {
  accountId: string;
  report: ParsedCredentialReport;
  root: RootSummary;
  passwordPolicy: AccountPasswordPolicy | null;
  /** IAM user name → its tags (from GetAccountAuthorizationDetails, paged). */
  userTags: Record<string, Record<string, string>>;
}

export const FINDING_KINDS = [
  'unused-key',
  'key-past-rotation',
  'unused-password',
  'console-without-mfa',
  'root-access-keys',
  'root-mfa-off',
  'password-policy-missing',
  'password-policy-weak',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export const FINDING_LABELS: Record<FindingKind, string> = {
  'unused-key': 'unused access keys',
  'key-past-rotation': 'access keys past rotation age',
  'unused-password': 'unused console passwords',
  'console-without-mfa': 'console users without MFA',
  'root-access-keys': 'root access keys present',
  'root-mfa-off': 'root MFA off',
  'password-policy-missing': 'no password policy',
  'password-policy-weak': 'weak password policy',
};

/** Who answers for an IAM user, and how we know. */
export type Owner =
  | { kind: 'slack'; slackUserId: string; source: 'tag' | 'email-tag' | 'identity-map' }
  | { kind: 'unowned'; reason: string };

export interface Finding {
  /**
   * Stable across sweeps while the thing is unchanged. Keys are named by account, user, slot
   * and creation time (the report gives seconds, and two keys can share one), so a rotated key
   * is a new finding and its reminders start over.
   */
  id: string;
  kind: FindingKind;
  accountId: string;
  userName?: string;
  userArn?: string;
  key?: { slot: 1 | 2; createdAt: string; lastUsedAt?: string; neverUsed: boolean };
  /** Days since creation (keys), last use (unused) or last change (password). */
  days?: number;
  /** One line a person can read. */
  detail: string;
  owner?: Owner;
}

export interface AccountFindings {
  accountId: string;
  sweptAt: string;
  reportGeneratedAt: string;
  userCount: number;
  findings: Finding[];
}
