/**
 * Posture state in Redis, all under `<redis.prefix>:posture:`: the last sweep's findings per
 * account (for "new since yesterday" and the digest), accepted risks (one hash, finding id →
 * JSON), the messages whose Accept-risk buttons are live (30 days), and weekly snapshots.
 */
import type { Redis } from 'ioredis';
import type {
  AcceptedRisk,
  AccountPosture,
  PostureMessage,
  PostureSnapshot,
  PostureStore as PostureStorePort,
} from '../domain/posture/ports.js';
import { runScript } from './lua-scripts.js';

const MESSAGE_TTL_S = 30 * 86_400;
const SNAPSHOT_TTL_S = 400 * 86_400;

export class PostureStore implements PostureStorePort {
  private readonly base: string;

  constructor(
    private readonly redis: Redis,
    redisPrefix: string,
  ) {
    this.base = `${redisPrefix}:posture`;
  }

  key(...parts: string[]): string {
    return [this.base, ...parts].join(':');
  }

  async saveFindings(account: AccountPosture): Promise<void> {
    await this.redis
      .multi()
      .set(this.key('findings', account.accountId), JSON.stringify(account))
      .sadd(this.key('accounts'), account.accountId)
      .exec();
  }

  async getFindings(accountId: string): Promise<AccountPosture | undefined> {
    const text = await this.redis.get(this.key('findings', accountId));
    return text ? (JSON.parse(text) as AccountPosture) : undefined;
  }

  async allFindings(): Promise<AccountPosture[]> {
    const accounts = (await this.redis.smembers(this.key('accounts'))).sort();
    if (accounts.length === 0) return [];
    const texts = await this.redis.mget(accounts.map((a) => this.key('findings', a)));
    return texts.filter((t): t is string => t !== null).map((t) => JSON.parse(t) as AccountPosture);
  }

  async acceptRisk(risk: AcceptedRisk): Promise<void> {
    await this.redis.hset(this.key('accepted'), risk.findingId, JSON.stringify(risk));
  }

  async acceptedRisks(ids: string[]): Promise<Map<string, AcceptedRisk>> {
    const out = new Map<string, AcceptedRisk>();
    if (ids.length === 0) return out;
    const values = await this.redis.hmget(this.key('accepted'), ...ids);
    ids.forEach((id, i) => {
      const v = values[i];
      if (v) out.set(id, JSON.parse(v) as AcceptedRisk);
    });
    return out;
  }

  /** Counted weekly by the digest, which also forgets acceptances over for a month. */
  async acceptedInForce(now: number): Promise<number> {
    const all = Object.entries(await this.redis.hgetall(this.key('accepted')));
    const until = (v: string) => Date.parse((JSON.parse(v) as AcceptedRisk).until);
    // Deleted only if unchanged since read: someone may accept the same finding again meanwhile.
    const stale = all.filter(([, v]) => until(v) < now - 30 * 86_400_000).flat();
    if (stale.length > 0) await runScript(this.redis, 'hdelIfUnchanged', [this.key('accepted')], stale);
    return all.filter(([, v]) => until(v) > now).length;
  }

  async saveMessage(message: PostureMessage): Promise<void> {
    await this.redis.set(this.key('message', message.id), JSON.stringify(message), 'EX', MESSAGE_TTL_S);
  }

  async getMessage(id: string): Promise<PostureMessage | undefined> {
    const text = await this.redis.get(this.key('message', id));
    return text ? (JSON.parse(text) as PostureMessage) : undefined;
  }

  async toldDrift(accountId: string): Promise<Set<string>> {
    return new Set(await this.redis.smembers(this.key('drift-told', accountId)));
  }

  async setToldDrift(accountId: string, ids: string[]): Promise<void> {
    const key = this.key('drift-told', accountId);
    const multi = this.redis.multi().del(key);
    if (ids.length > 0) multi.sadd(key, ...ids);
    await multi.exec();
  }

  async saveSnapshot(snapshot: PostureSnapshot): Promise<void> {
    await this.redis
      .multi()
      .set(this.key('snapshot', snapshot.week), JSON.stringify(snapshot), 'EX', SNAPSHOT_TTL_S)
      .zadd(this.key('snapshots'), 0, snapshot.week)
      .exec();
  }

  /** ISO weeks sort as text (`2026-W09` < `2026-W10`): the greatest week before `week`. */
  async previousSnapshot(week: string): Promise<PostureSnapshot | undefined> {
    const weeks = await this.redis.zrangebylex(this.key('snapshots'), '-', `(${week}`);
    for (const w of weeks.reverse()) {
      const text = await this.redis.get(this.key('snapshot', w));
      if (text) return JSON.parse(text) as PostureSnapshot;
    }
    return undefined;
  }
}
