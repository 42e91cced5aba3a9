/**
 * Redis cache of what SCPs leave of templates, per account.
 *
 * Keys (all under `redis.prefix`, so one slot on Redis Cluster):
 *   <prefix>:aws:scp:path:<account>              → the account and its SCP path (JSON), for the
 *                                                  Organizations cache TTL (`aws.organizations.cacheTtl`)
 *   <prefix>:aws:scp:accounts                    zset account id → last asked (ms): what reconcile refreshes
 *   <prefix>:aws:scp:effective:<account>:<hash>  → an EffectiveAccess (JSON), one day; the hash covers
 *                                                  the SCP documents and the rendered template, so a
 *                                                  changed SCP or template never reads an old result
 */
import type { Redis } from 'ioredis';
import type { EffectiveAccess } from '../domain/effective-access.js';
import type { Account } from '../domain/ports.js';

export interface CachedScpPath<P> {
  account: Account;
  path: P;
}

/** An account not asked about for this long stops being refreshed (its keys expire on their own). */
export const TRACKED_FOR_MS = 7 * 24 * 3600 * 1000;
const RESULT_TTL_SECONDS = 24 * 3600;

export class EffectiveAccessCache<P> {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly pathTtlSeconds: number,
  ) {}

  private pathKey(accountId: string) {
    return `${this.prefix}:aws:scp:path:${accountId}`;
  }
  private get trackedKey() {
    return `${this.prefix}:aws:scp:accounts`;
  }
  private resultKey(accountId: string, hash: string) {
    return `${this.prefix}:aws:scp:effective:${accountId}:${hash}`;
  }

  async path(accountId: string): Promise<CachedScpPath<P> | undefined> {
    const raw = await this.redis.get(this.pathKey(accountId));
    return raw ? (JSON.parse(raw) as CachedScpPath<P>) : undefined;
  }

  async setPath(account: Account, path: P): Promise<void> {
    await this.redis.set(
      this.pathKey(account.id),
      JSON.stringify({ account, path }),
      'EX',
      this.pathTtlSeconds,
    );
  }

  /** Marks the account as asked about now: reconcile keeps its path fresh. */
  async track(accountId: string, now: number): Promise<void> {
    await this.redis.zadd(this.trackedKey, now, accountId);
  }

  /** Accounts asked about recently; older ones are dropped from the set. */
  async tracked(now: number): Promise<string[]> {
    await this.redis.zremrangebyscore(this.trackedKey, '-inf', String(now - TRACKED_FOR_MS));
    return this.redis.zrange(this.trackedKey, '0', '-1');
  }

  async result(accountId: string, hash: string): Promise<EffectiveAccess | undefined> {
    const raw = await this.redis.get(this.resultKey(accountId, hash));
    return raw ? (JSON.parse(raw) as EffectiveAccess) : undefined;
  }

  async setResult(accountId: string, hash: string, effective: EffectiveAccess): Promise<void> {
    await this.redis.set(
      this.resultKey(accountId, hash),
      JSON.stringify(effective),
      'EX',
      RESULT_TTL_SECONDS,
    );
  }
}
