/**
 * Many grants ending together in accounts that throttle: the worker role (real Redis, BullMQ,
 * the grants worker) revokes them all within the `revocation` bounds — one at a time per account
 * here — and answers throttling by pausing the account, not by a storm of retries.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock.js';
import type { AccessRequest } from '../../../src/domain/access-request.js';
import type { GrantEngine } from '../../../src/domain/ports.js';
import { BullRequestScheduler } from '../../../src/jobs/approval-scheduler.js';
import { RedisRequestStore } from '../../../src/store/request-store.js';
import { startTestApp, type TestApp } from '../../support/app-harness.js';
import type { RecordingGrantEngine } from '../../support/recording-grant-engine.js';
import { testConfig } from '../../support/services.js';
import { storeAsTheBot } from '../../support/stored-requests.js';
import { ThrottledGrantEngine } from '../../support/throttled-grant-engine.js';
import { waitUntil } from '../../support/slack-flow.js';

const ACCOUNTS = ['111111111111', '222222222222'];
const PER_ACCOUNT = 10;

/** Counts the revocations in flight per account (and the most seen at once). */
function inFlight(engine: ThrottledGrantEngine) {
  const now = new Map<string, number>();
  const most = new Map<string, number>();
  const tracked: GrantEngine = Object.assign(Object.create(engine) as ThrottledGrantEngine, {
    revoke: async (accountId: string, requestId: string) => {
      const n = (now.get(accountId) ?? 0) + 1;
      now.set(accountId, n);
      most.set(accountId, Math.max(most.get(accountId) ?? 0, n));
      try {
        return await engine.revoke(accountId, requestId);
      } finally {
        now.set(accountId, (now.get(accountId) ?? 1) - 1);
      }
    },
  });
  return { tracked, most };
}

async function activeGrantEndingSoon(app: TestApp, id: string, accountId: string, endsAt: number) {
  const prefix = app.loaded.config.redis.prefix;
  const now = Date.now();
  const request: AccessRequest = {
    id,
    version: 1,
    state: 'approved',
    requesterId: `U0REQ${id.slice(-4)}`,
    principalArn: 'arn:aws:iam::123456789012:user/requester',
    accountId,
    accountName: accountId,
    ouPath: [],
    templateName: 'readonly',
    durationSeconds: 60,
    reason: 'many grants ending together',
    ruleName: 'default',
    approvalsRequired: 1,
    approvals: [],
    breakGlass: false,
    autoApproved: false,
    createdAt: now,
    updatedAt: now,
    pendingUntil: now + 3600_000,
    decidedBy: 'U0APPROVER1',
    decidedAt: now,
    extensions: 0,
  };
  await storeAsTheBot(app.service, prefix, request, ['U0APPROVER1']);
  const store = new RedisRequestStore(app.service.redis, prefix, systemClock);
  const moved = await store.transition(id, {
    from: ['approved'],
    to: 'active',
    patch: { startsAt: now, expiresAt: endsAt },
  });
  expect(moved.ok).toBe(true);
  await new BullRequestScheduler(app.service.queues, systemClock).scheduleGrantEnd(id, {
    revokeAt: endsAt,
    warnAt: 0,
  });
}

describe('revocations when AWS throttles', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('grants ending together are all revoked, one at a time per account, the account paused on throttling instead of a retry storm', async () => {
    // 4 IAM calls per revoke, at most 12 a second per account: three revokes fill an account's second.
    const engine = new ThrottledGrantEngine({ callMs: 5, callsPerSecond: 12, revokeCalls: 4 });
    const { tracked, most } = inFlight(engine);
    app = await startTestApp({
      role: 'worker',
      loaded: testConfig((c) => {
        c.revocation = { ...c.revocation, perAccount: 1, concurrency: 8, throttleRetries: 20 };
      }),
      adapters: { grants: tracked as unknown as RecordingGrantEngine },
      service: { scheduleReconcile: false },
    });
    const endsAt = Date.now() + 1500;
    const ids: string[] = [];
    for (const accountId of ACCOUNTS) {
      for (let i = 0; i < PER_ACCOUNT; i++) {
        const id = `r-${accountId.slice(0, 1)}lim${String(i).padStart(5, '0')}`;
        ids.push(id);
        await activeGrantEndingSoon(app, id, accountId, endsAt);
      }
    }

    const service = app.service;
    await waitUntil(
      async () => {
        const states = await Promise.all(ids.map(async (id) => (await service.requests.get(id))?.state));
        return states.every((s) => s === 'revoked') || undefined;
      },
      'every grant revoked',
      30_000,
    );

    expect(engine.counts.revokes).toBe(ids.length);
    // Never more than `perAccount` revocations at once in one account.
    expect([...most.values()]).toEqual([1, 1]);
    // The accounts did throttle (20 revokes of 4 calls need about 4 s at 12 calls/s) …
    expect(engine.counts.throttled).toBeGreaterThan(0);
    expect(engine.counts.maxCallsPerSecond).toBeLessThanOrEqual(12);
    // … and each throttle paused its account: a throttled answer per revoke or fewer, every one
    // counted by the limiter, none handed to the job's retry.
    const counts = service.revocations!.counts;
    expect(counts).toEqual({
      attempts: ids.length + engine.counts.throttled,
      throttled: engine.counts.throttled,
      gaveUp: 0,
    });
    expect(engine.counts.throttled).toBeLessThanOrEqual(ids.length);
    const scraped = await service.metrics.registry.metrics();
    expect(scraped).toContain(
      `aws_access_revocation_attempts_total{outcome="throttled"} ${counts.throttled}`,
    );
    expect(scraped).toContain(`aws_access_revocation_attempts_total{outcome="started"} ${counts.attempts}`);
  });
});
