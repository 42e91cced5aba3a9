/**
 * The replay guard on a real Redis: a signature is accepted once within the window, checks made
 * in the same event-loop turn travel as one pipeline (one socket write for the lot), a replay
 * inside that same batch is still caught, and a Redis failure refuses every check of the batch.
 */
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RedisReplayGuard } from '../../../src/http/replay-guard.js';
import { connectRedis, testRedis, uniquePrefix } from '../../support/services.js';

let redis: Redis;
let cleanup: () => Promise<void>;
let prefix: string;

beforeEach(async () => {
  prefix = uniquePrefix('replay');
  ({ redis, cleanup } = await testRedis(prefix));
});
afterEach(async () => {
  await cleanup();
});

/** Counts the pipelines the guard sends through `redis`. */
function countPipelines(client: Redis): { count: () => number } {
  let count = 0;
  const original = client.pipeline.bind(client);
  client.pipeline = ((...args: Parameters<Redis['pipeline']>) => {
    count += 1;
    return original(...args);
  }) as Redis['pipeline'];
  return { count: () => count };
}

describe('RedisReplayGuard', () => {
  it('accepts a signature once and refuses it again within the window', async () => {
    const guard = new RedisReplayGuard(redis, prefix);
    expect(await guard.firstUse('v0=abc', '1700000000')).toBe(true);
    expect(await guard.firstUse('v0=abc', '1700000000')).toBe(false);
    expect(await guard.firstUse('v0=abc', '1700000001')).toBe(true);
    const ttl = await redis.ttl(guard.key('v0=abc', '1700000000'));
    expect(ttl).toBeGreaterThan(590);
    expect(ttl).toBeLessThanOrEqual(600);
  });

  it('sends the checks of one event-loop turn as one pipeline, and still catches a replay inside it', async () => {
    const pipelines = countPipelines(redis);
    const guard = new RedisReplayGuard(redis, prefix);
    const signatures = Array.from({ length: 20 }, (_, i) => `v0=${i}`);
    // 20 distinct requests and a replay of the fifth, all arriving in the same turn.
    const results = await Promise.all([...signatures, 'v0=4'].map((s) => guard.firstUse(s, '1700000000')));
    expect(pipelines.count()).toBe(1);
    expect(results.slice(0, 20).every(Boolean)).toBe(true);
    expect(results[20]).toBe(false);
    // The next turn's checks form a new batch.
    expect(await guard.firstUse('v0=4', '1700000000')).toBe(false);
    expect(pipelines.count()).toBe(2);
  });

  it('refuses every check of a batch when Redis cannot answer (fail closed)', async () => {
    const broken = connectRedis('client', { lazyConnect: true, enableOfflineQueue: false });
    const guard = new RedisReplayGuard(broken, prefix);
    const results = await Promise.allSettled([guard.firstUse('v0=a', '1'), guard.firstUse('v0=b', '1')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    broken.disconnect();
  });
});
