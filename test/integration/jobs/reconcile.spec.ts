/**
 * Reconcile against real Redis, BullMQ and moto: the scheduled run ends an overdue grant whose
 * revoke job was lost, removes orphaned roles, alerts on missing roles and repairs requests stuck
 * between approval and grant.
 */
import {
  CreateRoleCommand,
  DeleteRolePolicyCommand,
  DeleteRoleCommand,
  ListRolesCommand,
  TagRoleCommand,
} from '@aws-sdk/client-iam';
import { Queue } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccessRequest } from '../../../src/domain/access-request.js';
import { jobId, QueueName, queueOptions } from '../../../src/jobs/queues.js';
import { RECONCILE_SCHEDULER, runReconcile, scheduleReconcile } from '../../../src/jobs/reconcile.js';
import {
  activeGrant,
  auditEvents,
  reconcileDeps,
  revokedEvents,
  roleExists,
  SANDBOX,
  startLifecycleApp,
  TEMPLATE,
  type LifecycleApp,
} from '../../support/grant-lifecycle.js';
import { connectRedis, resetMoto, testConfig } from '../../support/services.js';
import {
  APPROVER1,
  approverMessage,
  click,
  command,
  dmsTo,
  REQUESTER,
  waitUntil,
} from '../../support/slack-flow.js';
import { storeAsTheBot } from '../../support/stored-requests.js';
import { awsError, failBelowRetry, TestClock } from '../aws/aws-test-kit.js';

const HOUR = 3600_000;

function securityAlerts(app: LifecycleApp): string[] {
  return app.fake
    .callsTo('chat.postMessage')
    .filter((c) => c.args.channel === 'C0SECURITY')
    .map((c) => String(c.args.text));
}

describe('reconcile', () => {
  let app: LifecycleApp | undefined;
  beforeEach(async () => {
    await resetMoto();
  });
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('is a Job Scheduler on the configured cron, every 5 minutes UTC by default', async () => {
    const loaded = testConfig();
    const connection = connectRedis('worker');
    const queue = new Queue(QueueName.reconcile, queueOptions(connection, loaded.config.redis.prefix));
    try {
      await scheduleReconcile(queue, loaded.config);
      await scheduleReconcile(queue, loaded.config); // idempotent at every start
      const scheduler = await queue.getJobScheduler(RECONCILE_SCHEDULER);
      expect(scheduler).toMatchObject({ pattern: '*/5 * * * *', tz: 'UTC', name: 'reconcile' });
      expect(await queue.getJobSchedulersCount()).toBe(1);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
      await connection.quit();
    }
  });

  it('with the revoke job deleted from Redis, the next scheduled run revokes the overdue role', async () => {
    const clock = new TestClock(Date.now());
    app = await startLifecycleApp({
      clock,
      // Every second, so "the next run" comes quickly.
      mutate: (config) => {
        config.schedules.reconcile = '* * * * * *';
      },
      service: { scheduleReconcile: true },
    });
    const { request } = await activeGrant(app, '1h');
    const grants = app.service.queues.get(QueueName.grants);
    expect(await grants.remove(jobId.revoke(request.id))).toBe(1);
    await grants.remove(jobId.warn(request.id));

    // Runs before the end leave the grant alone.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await app.service.requests.get(request.id))?.state).toBe('active');

    clock.t += 2 * HOUR;
    const revoked = await waitUntil(
      async () => {
        const r = await app!.service.requests.get(request.id);
        return r?.state === 'revoked' ? r : undefined;
      },
      'reconcile to revoke the overdue grant',
      15_000,
    );
    expect(revoked.revokedBy).toBe('system');
    expect(await roleExists(app.iam, request.id)).toBe(false);
    const events = revokedEvents(await auditEvents(app, request.id));
    expect(events).toHaveLength(1);
    expect(events[0]!.reason).toMatch(/reconcile/);
  });

  it('removes a role no request accounts for and leaves live grants alone', async () => {
    app = await startLifecycleApp();
    const now = Date.now();
    // A role left behind by a wiped Redis: no request at all.
    await app.aws.grants.grant({
      requestId: 'r-orphan0001',
      accountId: SANDBOX,
      templateName: TEMPLATE,
      requester: { slackUserId: REQUESTER, principalArn: 'arn:aws:iam::123456789012:user/requester' },
      startsAt: new Date(now),
      expiresAt: new Date(now + HOUR),
    });
    const { request: live } = await activeGrant(app, '1h');

    const summary = await runReconcile(reconcileDeps(app));
    expect(summary.removedOrphans).toEqual(['r-orphan0001']);
    expect(summary.revoked).toEqual([]);
    expect(await roleExists(app.iam, 'r-orphan0001')).toBe(false);
    // The live grant is untouched.
    expect(await roleExists(app.iam, live.id)).toBe(true);
    expect((await app.service.requests.get(live.id))?.state).toBe('active');
    const events = await auditEvents(app, 'r-orphan0001');
    expect(events.map((e) => e.action)).toEqual(['reconcile-revoke']);
    expect(securityAlerts(app).some((t) => t.includes('aws-access-r-orphan0001'))).toBe(true);
  });

  it('alerts security once about an active grant whose role was removed outside the bot', async () => {
    app = await startLifecycleApp();
    const { request } = await activeGrant(app, '1h');
    const roleName = `aws-access-${request.id}`;
    for (const name of ['grant', 'expiry']) {
      await app.iam
        .send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: name }))
        .catch(() => undefined);
    }
    await app.iam.send(new DeleteRoleCommand({ RoleName: roleName }));

    const first = await runReconcile(reconcileDeps(app));
    const second = await runReconcile(reconcileDeps(app));
    expect(first.missing).toEqual([request.id]);
    expect(second.missing).toEqual([request.id]);
    await waitUntil(() => securityAlerts(app!).length > 0 || undefined, 'the alert');
    const alerts = securityAlerts(app).filter((t) => t.includes('is missing'));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toContain(request.id);
    expect((await app.service.requests.get(request.id))?.state).toBe('active');
  });

  it('repairs a request stuck in approved past the limit by granting it again', async () => {
    app = await startLifecycleApp();
    const now = Date.now();
    const stuck: AccessRequest = {
      id: 'r-stuck00001',
      version: 1,
      state: 'approved',
      requesterId: REQUESTER,
      principalArn: 'arn:aws:iam::123456789012:user/requester',
      accountId: SANDBOX,
      accountName: 'sandbox',
      ouPath: [],
      templateName: TEMPLATE,
      durationSeconds: 1800,
      reason: 'crashed between approval and grant',
      ruleName: 'default',
      approvalsRequired: 1,
      approvals: [],
      breakGlass: false,
      autoApproved: false,
      createdAt: now - HOUR,
      updatedAt: now - HOUR,
      pendingUntil: now,
      decidedBy: 'U0APPROVER1',
      decidedAt: now - HOUR,
      extensions: 0,
    };
    const prefix = app.loaded.config.redis.prefix;
    await storeAsTheBot(app.service, prefix, stuck, ['U0APPROVER1']);
    // A fresh approval (still within the limit) is left to the grant in flight.
    await storeAsTheBot(app.service, prefix, {
      ...stuck,
      id: 'r-fresh00001',
      decidedAt: now - 1000,
      updatedAt: now - 1000,
    });

    const summary = await runReconcile(reconcileDeps(app));
    expect(summary.repaired).toEqual(['r-stuck00001']);
    const repaired = await app.service.requests.get('r-stuck00001');
    expect(repaired?.state).toBe('active');
    expect(await roleExists(app.iam, 'r-stuck00001')).toBe(true);
    expect((await app.service.requests.get('r-fresh00001'))?.state).toBe('approved');
    const revokeJob = await app.service.queues.get(QueueName.grants).getJob(jobId.revoke('r-stuck00001'));
    expect(revokeJob).toBeDefined();
  });
  it('finding 12: reconcile takes the request id from the role name, removes a stray role retagged as a live grant, and alerts the mismatch', async () => {
    app = await startLifecycleApp();
    const { request: live } = await activeGrant(app, '1h');
    const now = Date.now();
    await app.aws.grants.grant({
      requestId: 'r-stray00001',
      accountId: SANDBOX,
      templateName: TEMPLATE,
      requester: { slackUserId: REQUESTER, principalArn: 'arn:aws:iam::123456789012:user/requester' },
      startsAt: new Date(now),
      expiresAt: new Date(now + HOUR),
    });
    // The stray role now claims to be the live grant's.
    await app.iam.send(
      new TagRoleCommand({
        RoleName: 'aws-access-r-stray00001',
        Tags: [{ Key: 'aws-access:request-id', Value: live.id }],
      }),
    );

    const summary = await runReconcile(reconcileDeps(app));
    expect(summary.removedOrphans).toEqual(['r-stray00001']);
    expect(summary.tagMismatches).toEqual(['aws-access-r-stray00001']);
    expect(await roleExists(app.iam, 'r-stray00001')).toBe(false);
    expect(await roleExists(app.iam, live.id)).toBe(true);
    expect((await app.service.requests.get(live.id))?.state).toBe('active');
    await waitUntil(
      () =>
        securityAlerts(app!).some((t) => t.includes('aws-access-r-stray00001') && t.includes(live.id)) ||
        undefined,
      'the tag-mismatch alert',
    );
    const events = await auditEvents(app, 'r-stray00001');
    expect(events.map((e) => e.action)).toEqual(['reconcile-tag-mismatch', 'reconcile-revoke']);
  });

  it('finding 6: reconcile removes roles planted under a /aws-access/ sub-path or with a foreign name, and alerts security', async () => {
    app = await startLifecycleApp();
    const { request: live } = await activeGrant(app, '1h');
    const trust = JSON.stringify({ Version: '2012-10-17', Statement: [] });
    await app.iam.send(
      new CreateRoleCommand({
        RoleName: 'aws-access-hidden01',
        Path: '/aws-access/x/hidden/',
        AssumeRolePolicyDocument: trust,
      }),
    );
    await app.iam.send(
      new CreateRoleCommand({ RoleName: 'backdoor', Path: '/aws-access/', AssumeRolePolicyDocument: trust }),
    );

    const summary = await runReconcile(reconcileDeps(app));
    expect(summary.removedForeign.sort()).toEqual([
      `${SANDBOX}:/aws-access/backdoor`,
      `${SANDBOX}:/aws-access/x/hidden/aws-access-hidden01`,
    ]);
    const left = await app.iam.send(new ListRolesCommand({ PathPrefix: '/aws-access/' }));
    expect(left.Roles?.map((r) => r.RoleName)).toEqual([`aws-access-${live.id}`]);
    expect((await app.service.requests.get(live.id))?.state).toBe('active');
    await waitUntil(
      () =>
        securityAlerts(app!).some((t) => t.includes('/aws-access/x/hidden/aws-access-hidden01')) || undefined,
      'the foreign-role alert',
    );
    expect(securityAlerts(app).some((t) => t.includes('/aws-access/backdoor'))).toBe(true);
  });

  it('finding 15: a grant whose role cannot be removed ends revoke-failed (never "nothing was granted") and reconcile removes the role', async () => {
    app = await startLifecycleApp();
    // The grant fails after CreateRole, and the rollback's first step fails too.
    failBelowRetry(app.iam, 'PutRolePolicy', () => awsError('AccessDenied', 403), 1, 'failGrant');
    failBelowRetry(
      app.iam,
      'PutRolePermissionsBoundary',
      () => awsError('AccessDenied', 403),
      1,
      'failRollback',
    );
    await command(app, `sandbox ${TEMPLATE} 1h checking the rollback`, REQUESTER);
    const message = await approverMessage(app.fake);
    await click(app, APPROVER1, 'request_approve', message);
    const request = await waitUntil(async () => {
      const r = await app!.service.requests.get(message.requestId);
      return r?.state === 'revoke-failed' || r?.state === 'failed' || r?.state === 'active' ? r : undefined;
    }, 'the grant to finish');
    expect(request.state).toBe('revoke-failed');
    expect(request.roleName).toBe(`aws-access-${request.id}`);
    expect(await roleExists(app.iam, request.id)).toBe(true);
    const dms = dmsTo(app.fake, REQUESTER).map((c) => String(c.args.text));
    expect(dms.some((t) => /Nothing was granted/i.test(t))).toBe(false);
    await waitUntil(
      () =>
        securityAlerts(app!).some(
          (t) => t.includes(`aws-access-${request.id}`) && t.includes('could not be removed'),
        ) || undefined,
      'the security alert',
    );

    const summary = await runReconcile(reconcileDeps(app));
    expect(summary.revoked).toContain(request.id);
    expect(await roleExists(app.iam, request.id)).toBe(false);
    expect((await app.service.requests.get(request.id))?.state).toBe('revoked');
  });
});
