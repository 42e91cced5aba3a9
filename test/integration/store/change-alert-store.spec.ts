/** The change-alert store's flush lock, on a real Redis. */
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RedisChangeAlertStore } from '../../../src/store/change-alert-store.js';
import { testRedis, uniquePrefix } from '../../support/services.js';

describe('RedisChangeAlertStore flush lock (Redis)', () => {
  let redis: Redis;
  let cleanup: () => Promise<void>;
  let prefix: string;
  beforeEach(async () => {
    prefix = uniquePrefix('iam-alerts');
    ({ redis, cleanup } = await testRedis(prefix));
  });
  afterEach(async () => cleanup());

  it('one replica flushes at a time; releasing frees only its own lock', async () => {
    const a = new RedisChangeAlertStore(redis, prefix);
    const b = new RedisChangeAlertStore(redis, prefix);
    expect(await a.lockFlush(0, 30_000)).toBe(true);
    expect(await b.lockFlush(0, 30_000)).toBe(false);
    await b.unlockFlush();
    expect(await b.lockFlush(0, 30_000)).toBe(false);
    await a.unlockFlush();
    expect(await b.lockFlush(0, 30_000)).toBe(true);
  });

  it('a flush whose lock expired and passed to another replica while it released does not free that lock', async () => {
    const lockKey = `${prefix}:iam-alerts:flush-lock`;
    const other = new RedisChangeAlertStore(redis, prefix);
    // The interleaving a slow flush meets: its lock expires and another replica takes it right
    // after this replica read the lock as its own, before it deletes it.
    let handedOver = false;
    let releasing = false;
    const racing = new Proxy(redis, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (name !== 'get' || typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          const read = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (releasing && !handedOver && args[0] === lockKey) {
            handedOver = true;
            await target.del(lockKey);
            expect(await other.lockFlush(0, 30_000)).toBe(true);
          }
          return read;
        };
      },
    });
    const slow = new RedisChangeAlertStore(racing, prefix);
    expect(await slow.lockFlush(0, 30_000)).toBe(true);
    releasing = true;
    await slow.unlockFlush();
    // A compare-and-delete release never reads the key first: hand the lock over now, as expiry
    // would, and release again; the other replica's lock must survive either way.
    if (!handedOver) {
      handedOver = true;
      await redis.del(lockKey);
      expect(await other.lockFlush(0, 30_000)).toBe(true);
      await slow.unlockFlush();
    }
    expect(await redis.exists(lockKey)).toBe(1);
    expect(await slow.lockFlush(0, 30_000)).toBe(false);
  });
});
