/**
 * In-memory doubles of the hygiene ports, for use-case tests without Redis, Slack or IAM. The
 * integration tests run the same use cases against the real adapters.
 */
import type { DigestSnapshot } from '../../../../src/domain/hygiene/digest.js';
import type {
  DeactivationResult,
  HygieneAuditEvent,
  HygieneDeps,
  HygieneLog,
  HygieneNotifier,
  HygieneSettings,
  HygieneStore,
  MessageRef,
  ReminderMessage,
} from '../../../../src/domain/hygiene/ports.js';
import type { ReminderState } from '../../../../src/domain/hygiene/reminders.js';
import type {
  AccountCredentialState,
  AccountFindings,
  Finding,
} from '../../../../src/domain/hygiene/types.js';

export const DAY = 86_400_000;

export class MemoryHygieneStore implements HygieneStore {
  findings = new Map<string, AccountFindings>();
  warned = new Map<string, Map<string, number>>();
  first = new Map<string, number>();
  snoozed = new Map<string, number>();
  escalated = new Map<string, number>();
  claims = new Set<string>();
  reminders = new Map<string, ReminderMessage>();
  directory: Map<string, string> | undefined;
  snapshots = new Map<string, DigestSnapshot>();
  audit: HygieneAuditEvent[] = [];

  async saveFindings(f: AccountFindings) {
    this.findings.set(f.accountId, structuredClone(f));
  }
  async getFindings(accountId: string) {
    return this.findings.get(accountId);
  }
  async allFindings() {
    return [...this.findings.values()];
  }
  async getWarnings(accountId: string) {
    return new Map(this.warned.get(accountId));
  }
  async recordWarning(accountId: string, id: string, at: number) {
    const w = this.warned.get(accountId) ?? new Map<string, number>();
    this.warned.set(accountId, w);
    if (w.has(id)) return false;
    w.set(id, at);
    return true;
  }
  async pruneWarnings(accountId: string, current: ReadonlySet<string>) {
    for (const id of this.warned.get(accountId)?.keys() ?? [])
      if (!current.has(id)) this.warned.get(accountId)!.delete(id);
  }
  async getReminderStates(ids: string[]) {
    return new Map<string, ReminderState>(
      ids.map((id) => [
        id,
        {
          firstRemindedAt: this.first.get(id),
          snoozedUntil: this.snoozed.get(id),
          escalatedAt: this.escalated.get(id),
        },
      ]),
    );
  }
  async markReminded(id: string, at: number) {
    if (!this.first.has(id)) this.first.set(id, at);
  }
  async markEscalated(id: string, at: number) {
    if (this.escalated.has(id)) return false;
    this.escalated.set(id, at);
    return true;
  }
  async snooze(ids: string[], until: number) {
    for (const id of ids) this.snoozed.set(id, until);
  }
  async claimDailyReminder(day: string, id: string) {
    if (this.claims.has(`${day}/${id}`)) return false;
    this.claims.add(`${day}/${id}`);
    return true;
  }
  async releaseDailyReminder(day: string, id: string) {
    this.claims.delete(`${day}/${id}`);
  }
  async saveReminderMessage(m: ReminderMessage) {
    this.reminders.set(m.id, m);
  }
  async getReminderMessage(id: string) {
    return this.reminders.get(id);
  }
  async slackIdsByEmail(emails: string[]) {
    const d = this.directory;
    return d && new Map(emails.map((e) => [e, d.get(e)]));
  }
  async saveSlackDirectory(byEmail: ReadonlyMap<string, string>) {
    this.directory = new Map(byEmail);
  }
  async saveSnapshot(s: DigestSnapshot) {
    this.snapshots.set(s.week, s);
  }
  async previousSnapshot(week: string) {
    const last = [...this.snapshots.keys()]
      .filter((w) => w < week)
      .sort()
      .at(-1);
    return last ? this.snapshots.get(last) : undefined;
  }
  async appendAudit(e: HygieneAuditEvent) {
    this.audit.push(e);
  }
}

type Sent = { kind: keyof HygieneNotifier; to?: string; findings: string[] };

/** Records each message by kind, recipient (undefined: the security channel) and finding ids. */
export class RecordingNotifier implements HygieneNotifier {
  sent: Sent[] = [];
  /** Makes the next call throw, as a rate-limited Slack post does. */
  failNext = false;

  private record(kind: keyof HygieneNotifier, to: string | undefined, findings: Finding[]) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('slack_rate_limited');
    }
    this.sent.push({ kind, to, findings: findings.map((f) => f.id) });
  }
  async unownedFindings(_accountId: string, findings: Finding[]) {
    this.record('unownedFindings', undefined, findings);
  }
  async enforcementWarning(owner: string | undefined, findings: Finding[]) {
    this.record('enforcementWarning', owner, findings);
  }
  async keysDeactivated(owner: string | undefined, findings: Finding[]) {
    this.record('keysDeactivated', owner, findings);
  }
  async rotationReminder(owner: string, _id: string, findings: Finding[]): Promise<MessageRef> {
    this.record('rotationReminder', owner, findings);
    return { channel: `D${owner}`, ts: String(this.sent.length) };
  }
  async escalation(findings: Finding[]) {
    this.record('escalation', undefined, findings);
  }
  async digest() {
    this.record('digest', undefined, []);
  }
}

export const silentLog: HygieneLog = {
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLog,
};

export const settings: HygieneSettings = {
  mode: 'report',
  thresholds: {
    unusedKeyDays: 90,
    rotationDays: 90,
    unusedPasswordDays: 90,
    passwordPolicy: {
      minimumLength: 0,
      requireSymbols: false,
      requireNumbers: false,
      requireUppercase: false,
      requireLowercase: false,
      maxAgeDays: 0,
      reusePrevention: 0,
    },
  },
  gracePeriodDays: 7,
  enforceUnowned: false,
  escalateAfterDays: 14,
  timeZone: 'UTC',
  identityMap: {},
};

export const ACCOUNT = '111111111111';

/** One account whose users each have one active, never-used key made on `createdAt`. */
export function accountState(
  users: Array<{ name: string; owner?: string }>,
  createdAt: Date,
): AccountCredentialState {
  return {
    accountId: ACCOUNT,
    report: {
      generatedAt: createdAt,
      rows: users.map((u) => ({
        userName: u.name,
        arn: `arn:aws:iam::${ACCOUNT}:user/${u.name}`,
        passwordEnabled: false,
        mfaActive: true,
        accessKeys: [{ slot: 1 as const, active: true, createdAt }],
      })),
    },
    root: { accessKeysPresent: false, mfaEnabled: true },
    passwordPolicy: { minimumLength: 14 },
    userTags: Object.fromEntries(
      users.map((u): [string, Record<string, string>] => [u.name, u.owner ? { 'slack-user': u.owner } : {}]),
    ),
  };
}

export function memoryDeps(state: AccountCredentialState, at: number) {
  const clock = { at, now: () => clock.at };
  const store = new MemoryHygieneStore();
  const notifier = new RecordingNotifier();
  const deactivated: string[] = [];
  const keys = {
    failFor: new Set<string>(),
    async deactivate(_accountId: string, userName: string): Promise<DeactivationResult> {
      if (keys.failFor.has(userName)) throw Object.assign(new Error('throttled'), { name: 'Throttling' });
      deactivated.push(userName);
      return { outcome: 'deactivated', accessKeyIdSuffix: '…ABCD' };
    },
  };
  const people = {
    reads: 0,
    byEmail: new Map<string, string>(),
    async listByEmail() {
      people.reads += 1;
      return new Map(people.byEmail);
    },
  };
  const deps: HygieneDeps = {
    store,
    notifier,
    people,
    reader: { read: async () => state },
    keys,
    audit: async (e) => store.appendAudit({ ...e, at: new Date(clock.now()).toISOString() }),
    clock,
    log: silentLog,
    settings,
  };
  return { deps, clock, store, notifier, keys, deactivated, people };
}
