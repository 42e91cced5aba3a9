/**
 * What the hygiene use cases need from the outside world. Redis (`store/hygiene-store.ts`),
 * Slack (`slack/hygiene/`) and IAM (`aws/hygiene-reader.ts`, `aws/hygiene-actions.ts`)
 * implement these; the use cases and their unit tests depend only on these shapes.
 */
import type { Clock } from '../ports.js';
import type { Digest, DigestSnapshot } from './digest.js';
import type { EnforcementOptions } from './enforcement.js';
import type { IdentityMapEntry } from './owners.js';
import type { ReminderState } from './reminders.js';
import type { AccountCredentialState, AccountFindings, Finding, HygieneThresholds } from './types.js';

export interface HygieneAuditEvent {
  type:
    | 'hygiene.key-warning-sent'
    | 'hygiene.key-deactivated'
    | 'hygiene.key-deactivation-skipped'
    | 'hygiene.key-deactivation-failed'
    | 'hygiene.reminder-snoozed'
    | 'hygiene.reminder-escalated'
    | 'posture.risk-accepted';
  at: string;
  /** `aws-access-bot` for jobs, the Slack user id for clicks. */
  actor: string;
  accountId?: string;
  userName?: string;
  findingId?: string;
  detail: string;
  /** Last four characters of an access key id; never the whole id, never a secret. */
  accessKeyIdSuffix?: string;
}

/** Stores, logs and forwards one audit event (see `hygieneAuditor`). */
export type HygieneAudit = (event: Omit<HygieneAuditEvent, 'at'>) => Promise<void>;

/** One rotation reminder DM, kept so its Snooze button knows whose keys it lists. */
export interface ReminderMessage {
  id: string;
  slackUserId: string;
  findingIds: string[];
  day: string;
  channel?: string;
  ts?: string;
}

/** Findings, warnings, reminder state, the e-mail directory cache, snapshots and audit. */
export interface HygieneStore {
  saveFindings(findings: AccountFindings): Promise<void>;
  getFindings(accountId: string): Promise<AccountFindings | undefined>;
  allFindings(): Promise<AccountFindings[]>;
  /** First enforcement warning per finding id (epoch ms). */
  getWarnings(accountId: string): Promise<Map<string, number>>;
  /** Records the first warning; false when one was already recorded. */
  recordWarning(accountId: string, findingId: string, at: number): Promise<boolean>;
  /** Drops the warnings of keys no longer in `current`. */
  pruneWarnings(accountId: string, current: ReadonlySet<string>): Promise<void>;
  getReminderStates(ids: string[]): Promise<Map<string, ReminderState>>;
  markReminded(findingId: string, at: number): Promise<void>;
  /** False when the key was already escalated. */
  markEscalated(findingId: string, at: number): Promise<boolean>;
  snooze(findingIds: string[], until: number): Promise<void>;
  /** The once-a-day guard: true for the first claim of (day, key) only. */
  claimDailyReminder(day: string, findingId: string): Promise<boolean>;
  releaseDailyReminder(day: string, findingId: string): Promise<void>;
  saveReminderMessage(message: ReminderMessage): Promise<void>;
  getReminderMessage(id: string): Promise<ReminderMessage | undefined>;
  /** From the cached directory; undefined when none is cached. */
  slackIdsByEmail(emails: string[]): Promise<Map<string, string | undefined> | undefined>;
  saveSlackDirectory(byEmail: ReadonlyMap<string, string>, ttlSeconds: number, at: number): Promise<void>;
  saveSnapshot(snapshot: DigestSnapshot): Promise<void>;
  /** The latest snapshot of a week before `week`. */
  previousSnapshot(week: string): Promise<DigestSnapshot | undefined>;
  appendAudit(event: HygieneAuditEvent): Promise<void>;
}

/** Where a Slack post landed, so it can be updated later. */
export interface MessageRef {
  channel?: string;
  ts?: string;
}

/**
 * The messages hygiene sends. `owner` undefined means the security channel. Each call is one
 * post and fails when Slack refuses it, so the job that made it is retried.
 */
export interface HygieneNotifier {
  /** New findings nobody owns (and account-level ones), to the security channel. */
  unownedFindings(accountId: string, findings: Finding[]): Promise<void>;
  enforcementWarning(owner: string | undefined, findings: Finding[], deactivateAfter: Date): Promise<void>;
  keysDeactivated(owner: string | undefined, findings: Finding[]): Promise<void>;
  /** A DM with a Snooze button carrying `reminderId`. */
  rotationReminder(owner: string, reminderId: string, findings: Finding[]): Promise<MessageRef>;
  escalation(findings: Finding[]): Promise<void>;
  digest(digest: Digest): Promise<void>;
}

/** The workspace's people by e-mail, for `email` owner tags. */
export interface PeopleDirectory {
  /** Every active person's e-mail (lower case) → Slack user id. */
  listByEmail(): Promise<Map<string, string>>;
}

/** The constant set of IAM reads of one account's sweep. */
export interface CredentialReader {
  read(accountId: string): Promise<AccountCredentialState>;
}

export type DeactivationResult =
  | { outcome: 'deactivated'; accessKeyIdSuffix: string }
  | { outcome: 'already-inactive'; accessKeyIdSuffix: string }
  /** The key was deleted or rotated since the report: nothing to do. */
  | { outcome: 'not-found' };

/** The one IAM write hygiene makes. Never deletes anything. */
export interface KeyActions {
  deactivate(
    accountId: string,
    userName: string,
    key: { slot: 1 | 2; createdAt: string },
  ): Promise<DeactivationResult>;
}

/** Structured log lines (pino's `Logger` fits). */
export interface HygieneLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
  child(bindings: Record<string, unknown>): HygieneLog;
}

/** The `hygiene` and `schedules` config the use cases decide with. */
export interface HygieneSettings extends EnforcementOptions {
  mode: 'report' | 'enforce';
  thresholds: HygieneThresholds;
  escalateAfterDays: number;
  /** `schedules.timezone`: reminder days and digest weeks are local. */
  timeZone: string;
  identityMap: Record<string, IdentityMapEntry>;
}

/** Everything a hygiene use case may need; each one takes only the part it uses. */
export interface HygieneDeps {
  store: HygieneStore;
  notifier: HygieneNotifier;
  people: PeopleDirectory;
  reader: CredentialReader;
  keys: KeyActions;
  audit: HygieneAudit;
  clock: Clock;
  log: HygieneLog;
  settings: HygieneSettings;
}
