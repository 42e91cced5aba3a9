import { systemClock } from '../../../src/clock.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Redis } from 'ioredis';
import type { AccessRequest } from '../../../src/domain/access-request.js';
import { hmacKeysFrom } from '../../../src/config/hmac-keys.js';
import { OpenRequestLimitError } from '../../../src/domain/request-ports.js';
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
  store = new RedisRequestStore(redis, prefix, systemClock);
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

/** Ids in the expiry index (active and revoke-failed grants by their end) up to `time`. */
const expiringBefore = (time: number) =>
  redis.zrangebyscore(`${prefix}:requests:expiry`, '-inf', String(time));

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
    const stale = await store.annotate(request.id, {
      states: ['active'],
      expectedVersion: 1,
      patch: { expiresAt: now + 7200_000 },
    });
    expect(stale).toMatchObject({ ok: false, reason: 'version', version: 3 });
    expect(await expiringBefore(now + 3600_000)).toEqual([request.id]);
    const cleared = await store.transition(request.id, {
      from: ['active'],
      to: 'revoked',
      patch: { failure: null },
    });
    expect(cleared.ok).toBe(true);
    expect(await expiringBefore(now + 3600_000)).toEqual([]);
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

/** A request moved through the store to active, its grant ending at `expiresAt`. */
async function activeRequest(
  target: RedisRequestStore,
  expiresAt: number,
  overrides: Partial<AccessRequest> = {},
) {
  const request = await target.create(draft({ approvalsRequired: 1, ...overrides }));
  await target.approve(request.id, 'U0A', Date.now());
  const moved = await target.transition(request.id, {
    from: ['approved'],
    to: 'active',
    patch: { startsAt: expiresAt - 3600_000, expiresAt },
  });
  if (!moved.ok) throw new Error('could not activate');
  return moved.request;
}

describe('the store refuses what a late job would otherwise let through', () => {
  it('takes no approval once pendingUntil has passed, even while the request is still pending', async () => {
    const pendingUntil = Date.now() + 60_000;
    const request = await store.create(draft({ approvalsRequired: 1, pendingUntil }));
    // The expire job is late: the request is still pending, but its time is up.
    expect(await store.approve(request.id, 'U0A', pendingUntil)).toEqual({
      result: 'expired',
      state: 'pending',
      pendingUntil,
    });
    expect(await store.approve(request.id, 'U0B', pendingUntil + 3600_000)).toMatchObject({
      result: 'expired',
    });
    const stored = await store.get(request.id);
    expect(stored).toMatchObject({ state: 'pending', version: 1, approvals: [] });
    expect(await redis.exists(`${prefix}:request:${request.id}:approvals`)).toBe(0);
    // Before pendingUntil the same approval counts.
    expect(await store.approve(request.id, 'U0A', pendingUntil - 1)).toMatchObject({ result: 'approved' });
  });

  it('applies a transition with notExpiredAt only while the stored grant has not ended', async () => {
    const expiresAt = Date.now() + 60_000;
    const request = await activeRequest(store, expiresAt);
    const extend = (at: number) =>
      store.annotate(request.id, {
        states: ['active'],
        expectedVersion: request.version,
        notExpiredAt: at,
        patch: { expiresAt: expiresAt + 1800_000, extensions: 1 },
      });
    // The revoke job is late: the request is still active, but its end has passed.
    expect(await extend(expiresAt)).toEqual({
      ok: false,
      reason: 'expired',
      state: 'active',
      version: request.version,
      expiresAt,
    });
    expect(await extend(expiresAt + 5 * 60_000)).toMatchObject({ ok: false, reason: 'expired' });
    expect(await store.get(request.id)).toMatchObject({ expiresAt, extensions: 0, version: request.version });
    expect(await expiringBefore(expiresAt)).toEqual([request.id]);
    // Before the end the same change applies.
    expect(await extend(expiresAt - 1)).toMatchObject({
      ok: true,
      request: { expiresAt: expiresAt + 1800_000 },
    });
  });
});

describe('open requests per requester', () => {
  it('refuses a create at the limit, atomically: of two creates racing at the limit exactly one passes', async () => {
    const capped = new RedisRequestStore(redis, prefix, systemClock, { maxOpenPerRequester: 3 });
    const first = await capped.create(draft());
    await capped.create(draft());
    expect(await capped.openRequestLimit('U0REQ')).toBeUndefined();
    // Two web replicas, two connections, one request each, both at 2 of 3.
    const replicas = [redis.duplicate(), redis.duplicate()];
    const results = await Promise.allSettled(
      replicas.map((c) =>
        new RedisRequestStore(c, prefix, systemClock, { maxOpenPerRequester: 3 }).create(draft()),
      ),
    );
    await Promise.all(replicas.map((c) => c.quit()));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected');
    expect(refused?.reason).toBeInstanceOf(OpenRequestLimitError);
    expect((refused?.reason as OpenRequestLimitError).message).toContain('you already have 3 open requests');
    expect(await redis.zcard(`${prefix}:requests:requester:U0REQ`)).toBe(3);
    expect(await redis.zcard(`${prefix}:requests:state:pending`)).toBe(3);
    const limit = await capped.openRequestLimit('U0REQ');
    expect(limit?.max).toBe(3);
    expect(limit?.open.map((r) => r.state)).toEqual(['pending', 'pending', 'pending']);

    // Someone else is not affected; a finished request does not count.
    await capped.create(draft({ requesterId: 'U0OTHER' }));
    await expect(capped.create(draft())).rejects.toBeInstanceOf(OpenRequestLimitError);
    await capped.transition(first.id, { from: ['pending'], to: 'cancelled' });
    expect(await capped.openRequestLimit('U0REQ')).toBeUndefined();
    await capped.create(draft());
    await expect(capped.create(draft())).rejects.toBeInstanceOf(OpenRequestLimitError);
  });

  it('counts approved, active and revoke-failed requests as open too', async () => {
    const capped = new RedisRequestStore(redis, prefix, systemClock, { maxOpenPerRequester: 3 });
    const active = await activeRequest(capped, Date.now() + 3600_000);
    const failing = await activeRequest(capped, Date.now() + 3600_000);
    await capped.transition(failing.id, { from: ['active'], to: 'revoke-failed' });
    const approved = await capped.create(draft({ approvalsRequired: 1 }));
    await capped.approve(approved.id, 'U0A', Date.now());
    expect((await capped.openRequestLimit('U0REQ'))?.open.map((r) => r.state).sort()).toEqual([
      'active',
      'approved',
      'revoke-failed',
    ]);
    await expect(capped.create(draft())).rejects.toBeInstanceOf(OpenRequestLimitError);
    await capped.transition(active.id, { from: ['active'], to: 'revoked' });
    await capped.create(draft());
  });
});

describe('finished requests expire', () => {
  const RETAIN = 3600;
  let retaining: RedisRequestStore;
  beforeEach(() => {
    retaining = new RedisRequestStore(redis, prefix, systemClock, { retainFinishedSeconds: RETAIN });
  });
  const ttl = (id: string) => redis.ttl(`${prefix}:request:${id}`);
  const approvalsTtl = (id: string) => redis.ttl(`${prefix}:request:${id}:approvals`);
  const proofsTtl = (id: string) => redis.ttl(`${prefix}:request:${id}:approval-proofs`);

  it('keeps an open request without a TTL and gives a finished one (hash and approvals) the retention', async () => {
    const request = await activeRequest(retaining, Date.now() + 3600_000);
    await retaining.setApprovalProof(request.id, 'U0A', 'proof');
    expect(await ttl(request.id)).toBe(-1);
    expect(await approvalsTtl(request.id)).toBe(-1);
    expect(await proofsTtl(request.id)).toBe(-1);
    await retaining.transition(request.id, { from: ['active'], to: 'revoke-failed' });
    expect(await ttl(request.id)).toBe(-1);
    await retaining.transition(request.id, { from: ['revoke-failed'], to: 'revoked' });
    for (const t of [await ttl(request.id), await approvalsTtl(request.id), await proofsTtl(request.id)]) {
      expect(t).toBeGreaterThan(0);
      expect(t).toBeLessThanOrEqual(RETAIN);
    }

    for (const to of ['denied', 'cancelled', 'expired-unapproved'] as const) {
      const pending = await retaining.create(draft());
      expect(await ttl(pending.id)).toBe(-1);
      await retaining.transition(pending.id, { from: ['pending'], to });
      expect(await ttl(pending.id)).toBeGreaterThan(0);
      expect(await ttl(pending.id)).toBeLessThanOrEqual(RETAIN);
    }
    const failed = await retaining.create(draft({ approvalsRequired: 1 }));
    await retaining.approve(failed.id, 'U0A', Date.now());
    await retaining.transition(failed.id, { from: ['approved'], to: 'failed' });
    expect(await ttl(failed.id)).toBeGreaterThan(0);
    expect(await approvalsTtl(failed.id)).toBeGreaterThan(0);
  });

  it('keeps a finished break-glass request until it is reviewed', async () => {
    const request = await activeRequest(retaining, Date.now() + 3600_000, { breakGlass: true });
    const revoked = await retaining.transition(request.id, { from: ['active'], to: 'revoked' });
    expect(revoked.ok).toBe(true);
    expect(await ttl(request.id)).toBe(-1);
    const reviewed = await retaining.annotate(request.id, {
      states: ['revoked'],
      patch: { reviewedBy: 'U0A', reviewedAt: Date.now() },
    });
    expect(reviewed.ok).toBe(true);
    expect(await ttl(request.id)).toBeGreaterThan(0);
    expect(await ttl(request.id)).toBeLessThanOrEqual(RETAIN);
  });

  it('drops index entries whose request has expired', async () => {
    const gone = await retaining.create(draft());
    await retaining.transition(gone.id, { from: ['pending'], to: 'cancelled' });
    const kept = await retaining.create(draft());
    // What the TTL does, without waiting for it.
    await redis.del(`${prefix}:request:${gone.id}`);
    // Reaching a final state trims that state's index of expired entries.
    await retaining.transition(kept.id, { from: ['pending'], to: 'cancelled' });
    expect(await redis.zrange(`${prefix}:requests:state:cancelled`, '0', '-1')).toEqual([kept.id]);
    // Listing trims the index it reads; creating trims the requester's index.
    const other = await retaining.create(draft({ requesterId: 'U0OTHER' }));
    await redis.del(`${prefix}:request:${other.id}`);
    expect(await retaining.listByRequester('U0OTHER')).toEqual([]);
    expect(await redis.zcard(`${prefix}:requests:requester:U0OTHER`)).toBe(0);
    await redis.del(`${prefix}:request:${kept.id}`);
    await retaining.create(draft());
    expect(await redis.zrange(`${prefix}:requests:requester:U0REQ`, '0', '-1')).not.toContain(kept.id);
    expect(await redis.zrange(`${prefix}:requests:requester:U0REQ`, '0', '-1')).not.toContain(gone.id);
  });
});

describe('the approver message of a request', () => {
  it('is recorded in whatever state, with no read of the request after the write', async () => {
    const request = await store.create(draft());
    const get = vi.spyOn(store, 'get');
    const hgetall = vi.spyOn(redis, 'hgetall');
    await store.setMessage(request.id, { channel: 'C0APPROVALS', ts: '1700000000.000100' });
    expect(get).not.toHaveBeenCalled();
    expect(hgetall).not.toHaveBeenCalled();
    get.mockRestore();
    const stored = await store.get(request.id);
    expect(stored?.message).toEqual({ channel: 'C0APPROVALS', ts: '1700000000.000100' });
    // An annotation: neither the state nor the version moves.
    expect(stored).toMatchObject({ state: 'pending', version: request.version });
    // A request whose hash is gone is not recreated.
    await store.setMessage('r-missing', { channel: 'C0APPROVALS', ts: '1.2' });
    expect(await redis.exists(`${prefix}:request:r-missing`)).toBe(0);
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

  it('reads the chain head from Redis only for its first append, and still links onto a head another writer moved', async () => {
    const log = new RedisAuditLog(redis, prefix, { chainKey });
    const get = vi.spyOn(redis, 'get');
    const event = (action: string) => ({
      at: new Date().toISOString(),
      actor: 'system',
      action,
      outcome: 'ok' as const,
    });
    await log.record(event('a1'));
    await log.record(event('a2'));
    await log.record(event('a3'));
    expect(get.mock.calls.filter(([key]) => key === `${prefix}:audit:head`)).toHaveLength(1);
    // Another replica appends: this process's remembered head is stale now.
    const second = redis.duplicate();
    await new RedisAuditLog(second, prefix, { chainKey }).record(event('b1'));
    await second.quit();
    await log.record(event('a4'));
    expect(await log.verify()).toEqual({ ok: true, entries: 5 });
    const rows = (await redis.xrange(`${prefix}:audit`, '-', '+')) as Array<[string, string[]]>;
    expect(rows.map(([, fields]) => JSON.parse(fields[1]!).action)).toEqual(['a1', 'a2', 'a3', 'b1', 'a4']);
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
