/**
 * On the real local Redis Cluster (`npm run test:cluster`): the connection really is a cluster,
 * each Lua script runs there (CROSSSLOT or a key on another node fails the call), and a prefix
 * without a hash tag would break the bot, which is why validate refuses it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { systemClock } from '../../../src/clock.js';
import type { AccessRequest } from '../../../src/domain/access-request.js';
import { hashTagOf } from '../../../src/config/schema/redis.js';
import { queueOptions } from '../../../src/jobs/queues.js';
import { RedisAuditLog } from '../../../src/store/audit-log.js';
import { isCluster } from '../../../src/store/redis-connection.js';
import { RedisRequestStore } from '../../../src/store/request-store.js';
import { redisTopology, testRedis, uniquePrefix } from '../../support/services.js';

const onCluster = redisTopology() === 'cluster';

function draft(id: string): AccessRequest {
  const now = Date.now();
  return {
    id,
    version: 1,
    state: 'pending',
    requesterId: 'U0REQ',
    principalArn: 'arn:aws:iam::123456789012:user/req',
    accountId: '222222222222',
    accountName: 'sandbox',
    ouPath: [],
    templateName: 'readonly',
    durationSeconds: 3600,
    reason: 'cluster',
    ruleName: 'default',
    approvalsRequired: 1,
    approvals: [],
    breakGlass: false,
    autoApproved: false,
    createdAt: now,
    updatedAt: now,
    pendingUntil: now + 3_600_000,
    extensions: 0,
  };
}

describe.runIf(onCluster)('on a real 3-master Redis Cluster', () => {
  let redis: Redis;
  let cleanup: () => Promise<void>;
  let prefix: string;
  beforeEach(async () => {
    prefix = uniquePrefix('cluster');
    ({ redis, cleanup } = await testRedis(prefix));
  });
  afterEach(async () => cleanup());

  it('the test connection is a cluster of 3 masters and the test prefix is hash-tagged', async () => {
    expect(isCluster(redis)).toBe(true);
    await redis.ping();
    expect((redis as unknown as { nodes(role: string): unknown[] }).nodes('master')).toHaveLength(3);
    expect(hashTagOf(prefix)).toBeDefined();
  });

  it('every Lua script runs (create, approve, transition with trim, audit append)', async () => {
    const store = new RedisRequestStore(redis, prefix, systemClock, {
      maxOpenPerRequester: 5,
      retainFinishedSeconds: 60,
    });
    // A second request of the same requester makes create read another request hash.
    await store.create(draft('r-one'));
    await store.create(draft('r-two'));
    expect(await store.approve('r-one', 'U0APPROVER', Date.now())).toMatchObject({ result: 'approved' });
    expect(await store.transition('r-one', { from: ['approved'], to: 'active' })).toMatchObject({ ok: true });
    expect(await store.transition('r-two', { from: ['pending'], to: 'cancelled' })).toMatchObject({
      ok: true,
    });
    await store.annotate('r-one', { states: ['active'], patch: { reason: 'annotated' } });
    expect((await store.listByState('active')).map((r) => r.id)).toEqual(['r-one']);
    expect((await store.listByState('cancelled')).map((r) => r.id)).toEqual(['r-two']);
    const log = new RedisAuditLog(redis, prefix, { chainKey: Buffer.alloc(32, 1) });
    for (let i = 0; i < 3; i++) {
      await log.record({ at: new Date().toISOString(), actor: 'system', action: `a${i}`, outcome: 'ok' });
    }
    expect(await log.verify()).toMatchObject({ ok: true, entries: 3 });
  });

  it('without a hash tag the keys of one request spread over slots: the script fails, queues refuse', async () => {
    // Find a bare prefix whose request hash and state index land on different slots.
    const bare = prefix.replace(/[{}]/g, '');
    const store = new RedisRequestStore(redis, bare, systemClock);
    await expect(store.create(draft('r-x'))).rejects.toThrow(/CROSSSLOT|same slot/);
    expect(() => queueOptions(redis, bare)).toThrow(/has no hash tag/);
  });
});
