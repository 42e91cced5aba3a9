/**
 * The revoke job's handler against real Redis, BullMQ and moto: idempotent under repeats, and a
 * failure on the last attempt ends in revoke-failed with a security alert, which reconcile
 * then finishes.
 */
import type { Job } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RequestJobData } from '../../../src/jobs/approval-scheduler.js';
import { revokeAtEnd } from '../../../src/jobs/grant-workers.js';
import { jobId, QueueName } from '../../../src/jobs/queues.js';
import { runReconcile } from '../../../src/jobs/reconcile.js';
import { createLogger } from '../../../src/logger.js';
import {
  activeGrant,
  auditEvents,
  reconcileDeps,
  revokedEvents,
  roleExists,
  startLifecycleApp,
  type LifecycleApp,
} from '../../support/grant-lifecycle.js';
import { resetMoto } from '../../support/services.js';
import { awsError, failBelowRetry } from '../aws/aws-test-kit.js';

function depsOf(app: LifecycleApp) {
  return {
    requests: app.service.requests,
    clock: { now: () => Date.now() },
    logger: createLogger({ level: 'silent' }),
    metrics: app.service.metrics,
  };
}

/** The job as the worker would hand it over on attempt `attempt` of `attempts`. */
function jobAt(requestId: string, attempt: number, attempts: number): Job<RequestJobData> {
  return { data: { requestId }, attemptsMade: attempt - 1, opts: { attempts } } as Job<RequestJobData>;
}

describe('the revoke job', () => {
  let app: LifecycleApp | undefined;
  beforeEach(async () => {
    await resetMoto();
  });
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('running the revoke handler twice for one request is harmless', async () => {
    app = await startLifecycleApp();
    const { request } = await activeGrant(app, '1h');
    const job = await app.service.queues.get(QueueName.grants).getJob(jobId.revoke(request.id));
    expect(job?.name).toBe('revoke');

    // Twice at once (a stalled job picked up while the first still runs), then once more.
    const [a, b] = await Promise.all([
      revokeAtEnd(depsOf(app), job as Job<RequestJobData>),
      revokeAtEnd(depsOf(app), job as Job<RequestJobData>),
    ]);
    const again = await revokeAtEnd(depsOf(app), job as Job<RequestJobData>);
    expect([a.acted, b.acted].filter(Boolean)).toHaveLength(1);
    expect(again).toEqual({ acted: false, state: 'revoked' });

    expect(await roleExists(app.iam, request.id)).toBe(false);
    expect((await app.service.requests.get(request.id))?.state).toBe('revoked');
    const events = await auditEvents(app, request.id);
    expect(revokedEvents(events)).toHaveLength(1);
    expect(events.filter((e) => e.action === 'revoke' && e.outcome !== 'ok')).toEqual([]);
    expect(await app.service.metrics.registry.metrics()).toMatch(
      /aws_access_revocations_total\{result="ok"\} 1/,
    );
  });

  it('a failed revoke is retried; the last failed attempt makes it revoke-failed and alerts security; reconcile finishes it', async () => {
    app = await startLifecycleApp();
    const { request } = await activeGrant(app, '1h');
    failBelowRetry(app.iam, 'DeleteRole', () => awsError('AccessDenied', 403), 2);

    // An early attempt fails quietly: BullMQ will retry it.
    await expect(revokeAtEnd(depsOf(app), jobAt(request.id, 1, 3))).rejects.toThrow(/revoking .* failed/);
    expect((await app.service.requests.get(request.id))?.state).toBe('active');
    expect(app.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0SECURITY')).toEqual([]);

    // The last attempt fails too: revoke-failed, and security hears about it.
    await expect(revokeAtEnd(depsOf(app), jobAt(request.id, 3, 3))).rejects.toThrow(/AccessDenied/);
    const failed = await app.service.requests.get(request.id);
    expect(failed?.state).toBe('revoke-failed');
    expect(failed?.failure).toMatch(/AccessDenied/);
    const alert = await app.fake.waitForCall('chat.postMessage', (c) => c.args.channel === 'C0SECURITY');
    expect(String(alert.args.text)).toContain(`Revoking request ${request.id} failed`);
    expect(await app.service.metrics.registry.metrics()).toMatch(
      /aws_access_revocations_total\{result="failed"\} 1/,
    );

    // Reconcile keeps trying; IAM works again now.
    const summary = await runReconcile(reconcileDeps(app));
    expect(summary.revoked).toEqual([request.id]);
    expect((await app.service.requests.get(request.id))?.state).toBe('revoked');
    expect(await roleExists(app.iam, request.id)).toBe(false);
    expect(revokedEvents(await auditEvents(app, request.id))).toHaveLength(1);
  });
});
