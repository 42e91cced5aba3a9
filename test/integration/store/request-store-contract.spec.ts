/**
 * The RequestStore contract: what every store must do, run against the Redis store (real
 * redis-server) and the in-memory store the use-case unit tests use, so the double cannot drift.
 * The lifecycle table (domain/model/state.ts) is the one authority on transitions: each class of
 * forbidden move is refused by both stores.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccessRequest } from '../../../src/domain/access-request.js';
import { ForbiddenTransitionError, type RequestState } from '../../../src/domain/model/state.js';
import type { Clock } from '../../../src/domain/ports.js';
import { OpenRequestLimitError, type RequestStore } from '../../../src/domain/request-ports.js';
import { RedisRequestStore } from '../../../src/store/request-store.js';
import { MemoryRequestStore } from '../../support/memory-request-store.js';
import { testRedis, uniquePrefix } from '../../support/services.js';

const NOW = 1_800_000_000_000;
const clock: Clock = { now: () => NOW };
const LIMIT = 3;

let seq = 0;
function draft(overrides: Partial<AccessRequest> = {}): AccessRequest {
  seq += 1;
  return {
    id: `r-contract${String(seq).padStart(3, '0')}`,
    version: 1,
    state: 'pending',
    requesterId: 'U0REQ',
    principalArn: 'arn:aws:iam::123456789012:user/req',
    accountId: '111111111111',
    accountName: 'production',
    ouPath: [{ id: 'r-root', name: 'Root' }],
    templateName: 'readonly',
    durationSeconds: 3600,
    reason: 'contract',
    ruleName: 'default',
    approvalsRequired: 2,
    approvals: [],
    breakGlass: false,
    autoApproved: false,
    createdAt: NOW - seq,
    updatedAt: NOW - seq,
    pendingUntil: NOW + 3600_000,
    extensions: 0,
    ...overrides,
  };
}

interface StoreUnderTest {
  store: RequestStore;
  cleanup: () => Promise<void>;
}

const stores: Array<[string, () => Promise<StoreUnderTest>]> = [
  [
    'the Redis store',
    async () => {
      const prefix = uniquePrefix('contract');
      const { redis, cleanup } = await testRedis(prefix);
      return {
        store: new RedisRequestStore(redis, prefix, clock, { maxOpenPerRequester: LIMIT }),
        cleanup,
      };
    },
  ],
  [
    'the in-memory store',
    async () => ({
      store: new MemoryRequestStore(clock, { maxOpenPerRequester: LIMIT }),
      cleanup: async () => undefined,
    }),
  ],
];

describe.each(stores)('%s keeps the RequestStore contract', (_name, make) => {
  let subject: StoreUnderTest;
  let store: RequestStore;
  beforeEach(async () => {
    subject = await make();
    store = subject.store;
  });
  afterEach(async () => {
    await subject.cleanup();
  });

  /** A request moved through the store into `state` along allowed transitions. */
  async function inState(
    state: RequestState,
    overrides: Partial<AccessRequest> = {},
  ): Promise<AccessRequest> {
    const request = await store.create(draft({ requesterId: `U0R${seq}`, ...overrides }));
    const path: Record<RequestState, Array<[RequestState, RequestState]>> = {
      pending: [],
      approved: [['pending', 'approved']],
      active: [
        ['pending', 'approved'],
        ['approved', 'active'],
      ],
      'revoke-failed': [
        ['pending', 'approved'],
        ['approved', 'active'],
        ['active', 'revoke-failed'],
      ],
      revoked: [
        ['pending', 'approved'],
        ['approved', 'active'],
        ['active', 'revoked'],
      ],
      failed: [
        ['pending', 'approved'],
        ['approved', 'failed'],
      ],
      denied: [['pending', 'denied']],
      cancelled: [['pending', 'cancelled']],
      'expired-unapproved': [['pending', 'expired-unapproved']],
    };
    let current = request;
    for (const [from, to] of path[state]) {
      const moved = await store.transition(request.id, {
        from: [from],
        to,
        ...(to === 'active' ? { patch: { startsAt: NOW, expiresAt: NOW + 3600_000 } } : {}),
      });
      if (!moved.ok) throw new Error(`could not move ${from} → ${to}`);
      current = moved.request;
    }
    return current;
  }

  it('stores a request and reads it back, listed by requester and by state', async () => {
    const request = await store.create(draft());
    expect(await store.get(request.id)).toEqual(request);
    expect((await store.listByRequester('U0REQ')).map((r) => r.id)).toEqual([request.id]);
    expect((await store.listByState('pending')).map((r) => r.id)).toEqual([request.id]);
    expect(await store.get('r-nothere')).toBeUndefined();
  });

  it('applies a transition once, however many callers race for it', async () => {
    const request = await store.create(draft());
    const results = await Promise.all(
      Array.from({ length: 10 }, () => store.transition(request.id, { from: ['pending'], to: 'cancelled' })),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toHaveLength(9);
    expect((await store.get(request.id))?.state).toBe('cancelled');
    expect((await store.listByState('cancelled')).map((r) => r.id)).toEqual([request.id]);
    expect(await store.listByState('pending')).toEqual([]);
  });

  it('refuses a change at a stale version, and one to a missing request', async () => {
    const request = await inState('active');
    expect(
      await store.annotate(request.id, { states: ['active'], expectedVersion: 1, patch: { extensions: 1 } }),
    ).toMatchObject({ ok: false, reason: 'version', version: request.version });
    expect(await store.transition('r-nothere', { from: ['pending'], to: 'denied' })).toEqual({
      ok: false,
      reason: 'missing',
    });
  });

  it('applies a change with notExpiredAt only while the grant has not ended', async () => {
    const request = await inState('active');
    const extend = (at: number) =>
      store.annotate(request.id, { states: ['active'], notExpiredAt: at, patch: { extensions: 1 } });
    expect(await extend(NOW + 3600_000)).toMatchObject({ ok: false, reason: 'expired', state: 'active' });
    expect(await extend(NOW)).toMatchObject({ ok: true, request: { state: 'active', extensions: 1 } });
  });

  it('an annotation keeps the state, bumps the version and may clear fields; a message ref keeps the version', async () => {
    const request = await inState('revoked', { breakGlass: true });
    const reviewed = await store.annotate(request.id, {
      states: ['revoked'],
      expectedVersion: request.version,
      patch: { reviewedBy: 'U0A', reviewedAt: NOW },
    });
    expect(reviewed).toMatchObject({
      ok: true,
      previous: 'revoked',
      request: { state: 'revoked', version: request.version + 1, reviewedBy: 'U0A' },
    });
    const cleared = await store.annotate(request.id, { states: ['revoked'], patch: { reviewedBy: null } });
    expect(cleared.ok && cleared.request.reviewedBy).toBeUndefined();
    const version = (await store.get(request.id))!.version;
    await store.setMessage(request.id, { channel: 'C1', ts: '1.2' });
    expect(await store.get(request.id)).toMatchObject({ version, message: { channel: 'C1', ts: '1.2' } });
    expect(await store.annotate(request.id, { states: ['active'], patch: {} })).toMatchObject({
      ok: false,
      reason: 'state',
      state: 'revoked',
    });
  });

  it('counts one approval per approver, never the requester, none after pendingUntil, and approves at N', async () => {
    const request = await store.create(draft());
    expect(await store.approve(request.id, 'U0REQ', NOW)).toMatchObject({ result: 'self' });
    expect(await store.approve(request.id, 'U0A', NOW + 3600_000)).toMatchObject({ result: 'expired' });
    expect(await store.approve(request.id, 'U0A', NOW)).toMatchObject({ result: 'counted', count: 1 });
    expect(await store.approve(request.id, 'U0A', NOW)).toMatchObject({ result: 'already' });
    expect(await store.approve(request.id, 'U0B', NOW)).toMatchObject({
      result: 'approved',
      count: 2,
      request: { state: 'approved', decidedBy: 'U0B' },
    });
    expect(await store.approve(request.id, 'U0C', NOW)).toMatchObject({ result: 'not-pending' });
    expect((await store.get(request.id))?.approvals.map((a) => a.approverId)).toEqual(['U0A', 'U0B']);
    expect(await store.approve('r-nothere', 'U0A', NOW)).toEqual({ result: 'missing' });
  });

  it('refuses a request past the open-request limit and names the open ones', async () => {
    const mine = { requesterId: 'U0CAP' };
    for (let i = 0; i < LIMIT; i++) await store.create(draft(mine));
    await expect(store.create(draft(mine))).rejects.toBeInstanceOf(OpenRequestLimitError);
    expect((await store.openRequestLimit('U0CAP'))?.open).toHaveLength(LIMIT);
    expect(await store.openRequestLimit('U0OTHER')).toBeUndefined();
  });

  it('counts the accounts of one multi-account request as one open request', async () => {
    const mine = { requesterId: 'U0GRP' };
    // More accounts than the limit, all in one group: every one is created.
    for (let i = 0; i < LIMIT + 2; i++) await store.create(draft({ ...mine, groupId: 'g-one' }));
    expect(await store.openRequestLimit('U0GRP')).toBeUndefined();
    for (let i = 0; i < LIMIT - 1; i++) await store.create(draft(mine));
    const limit = await store.openRequestLimit('U0GRP');
    expect(limit?.open).toHaveLength(LIMIT);
    expect(limit?.open.filter((r) => r.id === 'g-one')).toHaveLength(1);
    // A new group is refused at the limit; a further account of the open group is not.
    await expect(store.create(draft({ ...mine, groupId: 'g-two' }))).rejects.toBeInstanceOf(
      OpenRequestLimitError,
    );
    await store.create(draft({ ...mine, groupId: 'g-one' }));
  });

  it('keeps approval proofs and lists break-glass requests nobody has reviewed', async () => {
    const request = await store.create(draft({ breakGlass: true }));
    await store.setApprovalProof(request.id, 'U0A', 'proof-a');
    expect(await store.approvalProofs(request.id)).toEqual({ U0A: 'proof-a' });
    expect((await store.listUnreviewedBreakGlass()).map((r) => r.id)).toEqual([request.id]);
  });

  describe('refuses every transition the lifecycle table forbids', () => {
    const refused = async (from: RequestState, to: RequestState) => {
      const request = await inState(from);
      await expect(store.transition(request.id, { from: [from], to })).rejects.toBeInstanceOf(
        ForbiddenTransitionError,
      );
      expect((await store.get(request.id))?.state).toBe(from);
    };

    it('nothing leaves a final state', async () => {
      for (const from of ['revoked', 'denied', 'cancelled', 'expired-unapproved', 'failed'] as const) {
        await refused(from, 'active');
        await refused(from, 'pending');
      }
    });

    it('no step is skipped', async () => {
      await refused('pending', 'active');
      await refused('pending', 'revoked');
      await refused('approved', 'revoked');
    });

    it('nothing goes back', async () => {
      await refused('approved', 'pending');
      await refused('active', 'approved');
      await refused('revoke-failed', 'active');
    });

    it('no state moves to itself: that is an annotation', async () => {
      await refused('active', 'active');
      await refused('revoke-failed', 'revoke-failed');
      await refused('revoked', 'revoked');
    });

    it('a from-list with one forbidden state is refused whole', async () => {
      const request = await inState('active');
      await expect(
        store.transition(request.id, { from: ['active', 'pending'], to: 'revoked' }),
      ).rejects.toBeInstanceOf(ForbiddenTransitionError);
      await expect(store.transition(request.id, { from: [], to: 'revoked' })).rejects.toBeInstanceOf(
        ForbiddenTransitionError,
      );
      expect((await store.get(request.id))?.state).toBe('active');
    });
  });
});
