/**
 * Credential-hygiene state in Redis, all under `<redis.prefix>:hygiene:`. The sweep writes the
 * findings once; reminders, the digest and the Snooze button read them from here, so none of
 * them calls AWS again.
 *
 * Reminder state is kept in one hash per attribute (first reminded, snoozed until, escalated)
 * so the daily job and a Snooze click never overwrite each other's field.
 */
import type { Redis } from 'ioredis';
import type { DigestSnapshot } from '../domain/hygiene/digest.js';
import type {
  HygieneAuditEvent,
  HygieneStore as HygieneStorePort,
  ReminderMessage,
} from '../domain/hygiene/ports.js';
import type { ReminderState } from '../domain/hygiene/reminders.js';
import type { AccountFindings } from '../domain/hygiene/types.js';

export type { HygieneAuditEvent, ReminderMessage };

const DAY_S = 86_400;
/** Marker field of the Slack directory hash; it has no `@`, so it is never an e-mail. */
const DIRECTORY_LOADED_AT = 'loaded-at';

export class HygieneStore implements HygieneStorePort {
  private readonly base: string;

  constructor(
    private readonly redis: Redis,
    redisPrefix: string,
  ) {
    this.base = `${redisPrefix}:hygiene`;
  }

  key(...parts: string[]): string {
    return [this.base, ...parts].join(':');
  }

  async saveFindings(findings: AccountFindings): Promise<void> {
    await this.redis
      .multi()
      .set(this.key('findings', findings.accountId), JSON.stringify(findings))
      .sadd(this.key('accounts'), findings.accountId)
      .exec();
  }

  async getFindings(accountId: string): Promise<AccountFindings | undefined> {
    const text = await this.redis.get(this.key('findings', accountId));
    return text ? (JSON.parse(text) as AccountFindings) : undefined;
  }

  async allFindings(): Promise<AccountFindings[]> {
    const accounts = (await this.redis.smembers(this.key('accounts'))).sort();
    if (accounts.length === 0) return [];
    const texts = await this.redis.mget(accounts.map((a) => this.key('findings', a)));
    return texts.filter((t): t is string => t !== null).map((t) => JSON.parse(t) as AccountFindings);
  }

  /** First enforcement warning per finding id (epoch ms). */
  async getWarnings(accountId: string): Promise<Map<string, number>> {
    const all = await this.redis.hgetall(this.key('warned', accountId));
    return new Map(Object.entries(all).map(([id, at]) => [id, Number(at)]));
  }

  /** Records the first warning; a later call never moves the grace period's start. */
  async recordWarning(accountId: string, findingId: string, at: number): Promise<boolean> {
    return (await this.redis.hsetnx(this.key('warned', accountId), findingId, String(at))) === 1;
  }

  /** A key that is no longer unused (used again, rotated, gone) starts over if it goes stale again. */
  async pruneWarnings(accountId: string, current: ReadonlySet<string>): Promise<void> {
    const ids = await this.redis.hkeys(this.key('warned', accountId));
    const stale = ids.filter((id) => !current.has(id));
    if (stale.length > 0) await this.redis.hdel(this.key('warned', accountId), ...stale);
  }

  async getReminderStates(ids: string[]): Promise<Map<string, ReminderState>> {
    const out = new Map<string, ReminderState>();
    if (ids.length === 0) return out;
    const [first, snoozed, escalated] = await Promise.all([
      this.redis.hmget(this.key('reminder-first'), ...ids),
      this.redis.hmget(this.key('reminder-snoozed'), ...ids),
      this.redis.hmget(this.key('reminder-escalated'), ...ids),
    ]);
    const num = (v: string | null | undefined) => (v == null ? undefined : Number(v));
    ids.forEach((id, i) => {
      out.set(id, {
        firstRemindedAt: num(first[i]),
        snoozedUntil: num(snoozed[i]),
        escalatedAt: num(escalated[i]),
      });
    });
    return out;
  }

  async markReminded(findingId: string, at: number): Promise<void> {
    await this.redis.hsetnx(this.key('reminder-first'), findingId, String(at));
  }

  async markEscalated(findingId: string, at: number): Promise<boolean> {
    return (await this.redis.hsetnx(this.key('reminder-escalated'), findingId, String(at))) === 1;
  }

  async snooze(findingIds: string[], until: number): Promise<void> {
    if (findingIds.length === 0) return;
    await this.redis.hset(this.key('reminder-snoozed'), ...findingIds.flatMap((id) => [id, String(until)]));
  }

  /** The once-a-day guard: true for the first claim of (day, key), false for any later one. */
  async claimDailyReminder(day: string, findingId: string): Promise<boolean> {
    const ok = await this.redis.set(this.key('reminded', day, findingId), '1', 'EX', 3 * DAY_S, 'NX');
    return ok === 'OK';
  }

  /** Gives the day's claim back when the DM could not be sent, so a retry may send it. */
  async releaseDailyReminder(day: string, findingId: string): Promise<void> {
    await this.redis.del(this.key('reminded', day, findingId));
  }

  async saveReminderMessage(message: ReminderMessage): Promise<void> {
    await this.redis.set(this.key('reminder', message.id), JSON.stringify(message), 'EX', 30 * DAY_S);
  }

  async getReminderMessage(id: string): Promise<ReminderMessage | undefined> {
    const text = await this.redis.get(this.key('reminder', id));
    return text ? (JSON.parse(text) as ReminderMessage) : undefined;
  }

  /**
   * Slack ids for e-mails from the cached workspace directory (one hash, e-mail → user id), or
   * undefined when no directory is cached. An e-mail the directory lacks maps to undefined.
   */
  async slackIdsByEmail(emails: string[]): Promise<Map<string, string | undefined> | undefined> {
    const values = await this.redis.hmget(this.key('slack-emails'), DIRECTORY_LOADED_AT, ...emails);
    if (values[0] === null) return undefined;
    return new Map(emails.map((email, i) => [email, values[i + 1] ?? undefined]));
  }

  /**
   * Replaces the cached directory in one transaction, so a reader sees the old one or the whole
   * new one; it expires after `ttlSeconds`, and the next sweep pages Slack again.
   */
  async saveSlackDirectory(
    byEmail: ReadonlyMap<string, string>,
    ttlSeconds: number,
    at: number,
  ): Promise<void> {
    const key = this.key('slack-emails');
    const tx = this.redis.multi().del(key);
    const fields = [...byEmail].flat();
    for (let i = 0; i < fields.length; i += 2000) tx.hset(key, ...fields.slice(i, i + 2000));
    const results = await tx.hset(key, DIRECTORY_LOADED_AT, String(at)).expire(key, ttlSeconds).exec();
    const failed = results?.find(([error]) => error);
    if (failed) throw failed[0]!;
  }

  async saveSnapshot(snapshot: DigestSnapshot): Promise<void> {
    await this.redis.hset(this.key('snapshots'), snapshot.week, JSON.stringify(snapshot));
  }

  /** The latest snapshot of a week before `week` (ISO weeks sort as text). */
  async previousSnapshot(week: string): Promise<DigestSnapshot | undefined> {
    const weeks = (await this.redis.hkeys(this.key('snapshots'))).filter((w) => w < week).sort();
    const last = weeks.at(-1);
    if (!last) return undefined;
    const text = await this.redis.hget(this.key('snapshots'), last);
    return text ? (JSON.parse(text) as DigestSnapshot) : undefined;
  }

  async appendAudit(event: HygieneAuditEvent): Promise<void> {
    await this.redis.xadd(this.key('audit'), 'MAXLEN', '~', '10000', '*', 'event', JSON.stringify(event));
  }

  async readAudit(): Promise<HygieneAuditEvent[]> {
    const entries = await this.redis.xrange(this.key('audit'), '-', '+');
    return entries.map(([, fields]) => JSON.parse(fields[1] ?? '{}') as HygieneAuditEvent);
  }
}
