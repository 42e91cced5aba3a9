/**
 * IAM change-alert state in Redis, under `<redis.prefix>:iam-alerts:`: the alerts waiting to be
 * posted (one hash, event id → alert, so a redelivered event is kept once), the ids of posted
 * events (a key each, kept a week: longer than SQS keeps a message), the per-minute post budget,
 * and the flush lock that lets one replica post at a time.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ChangeAlert } from '../domain/iam-changes/describe-change.js';
import type { ChangeAlertStore } from '../domain/iam-changes/ports.js';
import { runScript } from './lua-scripts.js';

const POSTED_TTL_S = 7 * 86_400;

export class RedisChangeAlertStore implements ChangeAlertStore {
  private readonly base: string;
  private readonly lockToken = randomUUID();

  constructor(
    private readonly redis: Redis,
    redisPrefix: string,
  ) {
    this.base = `${redisPrefix}:iam-alerts`;
  }

  key(...parts: string[]): string {
    return [this.base, ...parts].join(':');
  }

  async wasPosted(eventId: string): Promise<boolean> {
    return (await this.redis.exists(this.key('posted', eventId))) === 1;
  }

  async addPending(alert: ChangeAlert, receivedAt: number): Promise<void> {
    await this.redis.hsetnx(this.key('pending'), alert.eventId, JSON.stringify({ alert, receivedAt }));
  }

  async pending(): Promise<Array<{ alert: ChangeAlert; receivedAt: number }>> {
    const all = await this.redis.hvals(this.key('pending'));
    return all.map((v) => JSON.parse(v) as { alert: ChangeAlert; receivedAt: number });
  }

  async markPosted(eventIds: string[]): Promise<void> {
    if (eventIds.length === 0) return;
    const multi = this.redis.multi().hdel(this.key('pending'), ...eventIds);
    for (const id of eventIds) multi.set(this.key('posted', id), '1', 'EX', POSTED_TTL_S);
    await multi.exec();
  }

  async takePostSlot(now: number, maxPerMinute: number): Promise<boolean> {
    const key = this.key('posts', String(Math.floor(now / 60_000)));
    const [[, count]] = (await this.redis.multi().incr(key).expire(key, 120).exec()) as [[unknown, number]];
    if (count <= maxPerMinute) return true;
    await this.redis.decr(key);
    return false;
  }

  async lockFlush(_now: number, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.key('flush-lock'), this.lockToken, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async unlockFlush(): Promise<void> {
    // Only our own lock, compared and deleted in one step: a flush that outlived its lock must
    // not free another replica's (a GET then DEL could, when the lock changed hands between).
    await runScript(this.redis, 'releaseLock', [this.key('flush-lock')], [this.lockToken]);
  }
}
