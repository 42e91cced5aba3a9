import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { AccessRequest } from '../../../src/domain/access-request.js';
import { hmacKeysFrom } from '../../../src/config/hmac-keys.js';
import { RedisAuditLog } from '../../../src/store/audit-log.js';
import { RedisRequestStore } from '../../../src/store/request-store.js';
import { testRedis, uniquePrefix } from '../../support/services.js';

let redis: Redis;
let cleanup: () => Promise<void>;
let prefix: string;
let store: RedisRequestStore;

beforeEach(async () => {
  prefix = uniquePrefix('store');
  ({ redis, cleanup } = await testRedis(prefix));
  store = new RedisRequestStore(redis, prefix);
});
afterEach(async () => cleanup());

function draft(overrides: Partial<AccessRequest> = {}): AccessRequest {
  const now = Date.now();
  return {
    id: `r-${Math.random().toString(16).slice(2, 10)}`,
    version: 1,
    state: 'pending',
    requesterId: 'U0REQ',
    principalArn: 'arn:aws:iam::123456789012:user/req',
    accountId: '222222222222',
    accountName: 'sandbox',
    ouPath: [{ id: 'ou-ab12-sandbox00', name: 'Sandbox' }],
    templateName: 'readonly',
    durationSeconds: 3600,
    reason: 'why <not>',
    ruleName: 'default',
    approvalsRequired: 2,
    approvals: [],
    breakGlass: false,
    autoApproved: false,
    createdAt: now,
    updatedAt: now,
    pendingUntil: now + 3600_000,
    extensions: 0,
    ...overrides,
  };
}

describe('the Redis request store', () => {
  it('stores a request as a hash and reads it back with its types', async () => {
    const request = await store.create(draft());
    expect(await store.get(request.id)).toEqual(request);
    expect(await redis.type(`${prefix}:request:${request.id}`)).toBe('hash');
    expect((await store.listByRequester('U0REQ')).map((r) => r.id)).toEqual([request.id]);
    expect((await store.listByState('pending')).map((r) => r.id)).toEqual([request.id]);
  });

  it('applies a transition only from an allowed state, once, and moves the indexes', async () => {
    const request = await store.create(draft());
    const results = await Promise.all(
      Array.from({ length: 10 }, () => store.transition(request.id, { from: ['pending'], to: 'cancelled' })),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.reason === 'state')).toBe(true);
    const stored = await store.get(request.id);
    expect(stored).toMatchObject({ state: 'cancelled', version: 2 });
    expect(await store.listByState('pending')).toEqual([]);
    expect((await store.listByState('cancelled')).map((r) => r.id)).toEqual([request.id]);
  });

  it('refuses a transition at a stale version', async () => {
    const request = await store.create(draft({ state: 'pending' }));
    await store.transition(request.id, { from: ['pending'], to: 'approved' });
    const now = Date.now();
    await store.transition(request.id, {
      from: ['approved'],
      to: 'active',
      patch: { startsAt: now, expiresAt: now + 3600_000 },
    });
    const stale = await store.transition(request.id, {
      from: ['active'],
      to: 'active',
      expectedVersion: 1,
      patch: { expiresAt: now + 7200_000 },
    });
    expect(stale).toMatchObject({ ok: false, reason: 'version', version: 3 });
    expect((await store.listExpiringBefore(now + 3600_000)).map((r) => r.id)).toEqual([request.id]);
    const cleared = await store.transition(request.id, {
      from: ['active'],
      to: 'revoked',
      patch: { failure: null },
    });
    expect(cleared.ok).toBe(true);
    expect(await store.listExpiringBefore(now + 3600_000)).toEqual([]);
  });

  it('counts one approval per approver, never the requester, and approves exactly once at N', async () => {
    const request = await store.create(draft({ approvalsRequired: 2 }));
    expect(await store.approve(request.id, 'U0REQ', 1)).toMatchObject({ result: 'self' });
    expect(await store.approve(request.id, 'U0A', 2)).toMatchObject({ result: 'counted', count: 1 });
    expect(await store.approve(request.id, 'U0A', 3)).toMatchObject({ result: 'already' });
    const racing = await Promise.all(
      ['U0B', 'U0C', 'U0D', 'U0E'].map((u) => store.approve(request.id, u, 4)),
    );
    expect(racing.filter((r) => r.result === 'approved')).toHaveLength(1);
    expect(racing.filter((r) => r.result === 'not-pending')).toHaveLength(3);
    const stored = await store.get(request.id);
    expect(stored?.state).toBe('approved');
    expect(stored?.approvals.map((a) => a.approverId)).toHaveLength(2);
  });
});

describe('the chained audit log', () => {
  // Keyed as the service keys it (the key comes from the test setup's AWS_ACCESS_HMAC_KEY).
  const chainKey = hmacKeysFrom(process.env.AWS_ACCESS_HMAC_KEY).auditChain;

  it('chains entries by hash and detects a removed entry', async () => {
    const log = new RedisAuditLog(redis, prefix, { chainKey });
    await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        log.record({ at: new Date().toISOString(), actor: 'system', action: `a${i}`, outcome: 'ok' }),
      ),
    );
    // Concurrent writers through another connection still produce one linear chain.
    const second = redis.duplicate();
    const other = new RedisAuditLog(second, prefix, { chainKey });
    await Promise.all([
      other.record({ at: new Date().toISOString(), actor: 'system', action: 'x1', outcome: 'ok' }),
      log.record({ at: new Date().toISOString(), actor: 'system', action: 'x2', outcome: 'ok' }),
    ]);
    await second.quit();
    expect(await log.verify()).toEqual({ ok: true, entries: 27 });
    const rows = (await redis.xrange(`${prefix}:audit`, '-', '+')) as Array<[string, string[]]>;
    await redis.xdel(`${prefix}:audit`, rows[5]![0]);
    const result = await log.verify();
    expect(result).toMatchObject({ ok: false, entryId: rows[6]![0] });
  });

  it('keeps every event and one linear chain when several replicas append at once', async () => {
    // Four web replicas = four connections, each with its own in-process queue.
    const connections = Array.from({ length: 4 }, () => redis.duplicate());
    const logs = connections.map((c) => new RedisAuditLog(c, prefix, { chainKey }));
    const perWriter = 300;
    const results = await Promise.allSettled(
      logs.flatMap((log, w) =>
        Array.from({ length: perWriter }, (_, i) =>
          log.record({ at: new Date().toISOString(), actor: 'system', action: `w${w}-${i}`, outcome: 'ok' }),
        ),
      ),
    );
    await Promise.all(connections.map((c) => c.quit()));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(await new RedisAuditLog(redis, prefix, { chainKey }).verify()).toEqual({
      ok: true,
      entries: 4 * perWriter,
    });
  });
});
