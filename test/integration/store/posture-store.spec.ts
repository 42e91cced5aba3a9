/** Posture accepted risks on a real Redis: counting them, forgetting old ones. */
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AcceptedRisk } from '../../../src/domain/posture/ports.js';
import { PostureStore } from '../../../src/store/posture-store.js';
import { testRedis, uniquePrefix } from '../../support/services.js';

const DAY = 86_400_000;
const NOW = Date.parse('2030-06-01T00:00:00Z');
const risk = (findingId: string, untilMs: number): AcceptedRisk => ({
  findingId,
  by: 'U0CAROL',
  reason: 'reviewed',
  at: new Date(untilMs - 7 * DAY).toISOString(),
  until: new Date(untilMs).toISOString(),
});

describe('PostureStore accepted risks (Redis)', () => {
  let redis: Redis;
  let cleanup: () => Promise<void>;
  let prefix: string;
  let store: PostureStore;
  beforeEach(async () => {
    prefix = uniquePrefix('posture');
    ({ redis, cleanup } = await testRedis(prefix));
    store = new PostureStore(redis, prefix);
  });
  afterEach(async () => cleanup());

  it('counts those in force and forgets those over for a month', async () => {
    await store.acceptRisk(risk('in-force', NOW + DAY));
    await store.acceptRisk(risk('just-over', NOW - DAY));
    await store.acceptRisk(risk('long-over', NOW - 40 * DAY));
    expect(await store.acceptedInForce(NOW)).toBe(1);
    expect([...(await store.acceptedRisks(['in-force', 'just-over', 'long-over'])).keys()]).toEqual([
      'in-force',
      'just-over',
    ]);
  });

  it('never forgets an acceptance renewed between its read and its removal', async () => {
    await store.acceptRisk(risk('renewed', NOW - 40 * DAY));
    let renewed = false;
    const racing = new Proxy(redis, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (name !== 'hgetall' || typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          const read = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (!renewed) {
            renewed = true;
            await store.acceptRisk(risk('renewed', NOW + 30 * DAY));
          }
          return read;
        };
      },
    });
    await new PostureStore(racing, prefix).acceptedInForce(NOW);
    expect(renewed).toBe(true);
    expect((await store.acceptedRisks(['renewed'])).get('renewed')?.until).toBe(
      new Date(NOW + 30 * DAY).toISOString(),
    );
  });
});
