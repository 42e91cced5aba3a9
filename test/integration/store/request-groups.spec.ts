/** The multi-account request group store's create and grant claim, on a real Redis. */
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RedisRequestGroupStore } from '../../../src/store/request-groups.js';
import { testRedis, uniquePrefix } from '../../support/services.js';

describe('RedisRequestGroupStore grant claim (Redis)', () => {
  let redis: Redis;
  let cleanup: () => Promise<void>;
  let prefix: string;
  beforeEach(async () => {
    prefix = uniquePrefix('groups');
    ({ redis, cleanup } = await testRedis(prefix));
  });
  afterEach(async () => cleanup());

  it('one caller claims a group; a claim older than takeOverBefore is taken over; no group, no claim', async () => {
    const store = new RedisRequestGroupStore(redis, prefix, 3600);
    await store.create({ id: 'g-1', requesterId: 'U1', memberIds: ['r-1-1', 'r-1-2'], createdAt: 1 });
    const claims = await Promise.all([store.claimGrant('g-1', 1000), store.claimGrant('g-1', 1000)]);
    expect(claims.sort()).toEqual([false, true]);
    // A later caller without take-over, or one whose limit is before the claim, is refused.
    expect(await store.claimGrant('g-1', 2000)).toBe(false);
    expect(await store.claimGrant('g-1', 2000, 999)).toBe(false);
    // Reconcile's repair takes over a claim made before its "stuck before" time, once.
    expect(await store.claimGrant('g-1', 5000, 1000)).toBe(true);
    expect(await store.claimGrant('g-1', 5001, 1000)).toBe(false);
    // An unknown (expired) group is never created by a claim.
    expect(await store.claimGrant('g-missing', 1000)).toBe(false);
    expect(await redis.exists(`${prefix}:group:g-missing`)).toBe(0);
    // The group still reads as before.
    expect(await store.get('g-1')).toMatchObject({ id: 'g-1', memberIds: ['r-1-1', 'r-1-2'] });
  });

  it('creates a group once, with its TTL, and completes a record a cut-off two-step create left with only its id', async () => {
    const store = new RedisRequestGroupStore(redis, prefix, 3600);
    const group = { id: 'g-2', requesterId: 'U1', memberIds: ['r-2-1', 'r-2-2'], createdAt: 7 };
    // What the earlier HSETNX-then-HSET create left when cut off between its two steps.
    await redis.hset(`${prefix}:group:g-2`, 'id', 'g-2');
    expect(await store.create(group)).toBe(true);
    expect(await store.get('g-2')).toEqual(group);
    expect(await redis.ttl(`${prefix}:group:g-2`)).toBeGreaterThan(3500);
    // A second create (an intake run that ran twice) changes nothing.
    expect(await store.create({ ...group, requesterId: 'U2' })).toBe(false);
    expect((await store.get('g-2'))?.requesterId).toBe('U1');
  });
});
