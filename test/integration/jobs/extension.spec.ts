/**
 * Extensions against real Redis, BullMQ and moto: both jobs move and IAM's expiry policy is
 * rewritten; the template's limits refuse with a clear message; under a rule without
 * auto-approved extensions the rule's approvers decide; the expiry warning offers Extend.
 */
import type { Job } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../../src/config/schema.js';
import { jobId, QueueName } from '../../../src/jobs/queues.js';
import { EXTEND_MODAL_ID } from '../../../src/slack/views/request-modal.js';
import {
  activeGrant,
  expiryPolicyDate,
  startLifecycleApp,
  type LifecycleApp,
} from '../../support/grant-lifecycle.js';
import { resetMoto } from '../../support/services.js';
import { ShiftClock } from '../../support/shift-clock.js';
import { blockActionsBody, viewSubmissionBody } from '../../support/slack-request.js';
import {
  APPROVER1,
  APPROVER2,
  approverMessage,
  click,
  command,
  dmsTo,
  ephemeralsTo,
  REQUESTER,
  waitUntil,
} from '../../support/slack-flow.js';

const MINUTE = 60_000;

function autoApprovedExtensions(config: AppConfig): void {
  config.approval.rules.find((r) => r.name === 'default')!.extensions.autoApprove = true;
}

/** When a delayed job is due. */
function dueAt(job: Job | undefined): number {
  return (job?.timestamp ?? 0) + (job?.opts.delay ?? 0);
}

async function responses(app: LifecycleApp, contains: string): Promise<string> {
  return waitUntil(
    () =>
      app.fake
        .callsTo('response_url')
        .map((c) => String(c.args.text))
        .find((t) => t.includes(contains)),
    `a command response containing "${contains}"`,
  );
}

/** The extension approvers' message, and a click on its Approve as `userId`. */
async function extensionMessage(app: LifecycleApp, requestId: string) {
  const posted = await app.fake.waitForCall('chat.postMessage', (c) =>
    JSON.stringify(c.args.blocks ?? []).includes('extension_approve'),
  );
  const message = { channel: String(posted.args.channel), ts: String(posted.response?.ts) };
  const clickApprove = (userId: string) =>
    app.post(
      blockActionsBody({
        userId,
        actionId: 'extension_approve',
        value: requestId,
        blockId: 'extension',
        message,
      }),
    );
  return { message, clickApprove };
}

describe('extending a grant', () => {
  let app: LifecycleApp | undefined;
  beforeEach(async () => {
    await resetMoto();
  });
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('moves both jobs and rewrites the expiry policy; past the template’s max total it is refused clearly', async () => {
    app = await startLifecycleApp({ mutate: autoApprovedExtensions });
    const { request } = await activeGrant(app, '1h');
    const grants = app.service.queues.get(QueueName.grants);
    expect(Math.abs(dueAt(await grants.getJob(jobId.revoke(request.id))) - request.expiresAt!)).toBeLessThan(
      2000,
    );
    expect(await expiryPolicyDate(app.iam, request.id)).toBe(new Date(request.expiresAt!).toISOString());

    await command(app, `extend ${request.id} 30m`);
    await responses(app, `Extended request ${request.id} by 30m`);
    const extended = (await app.service.requests.get(request.id))!;
    const newEnd = request.expiresAt! + 30 * MINUTE;
    expect(extended.expiresAt).toBe(newEnd);
    expect(extended.extensions).toBe(1);
    expect(Math.abs(dueAt(await grants.getJob(jobId.revoke(request.id))) - newEnd)).toBeLessThan(2000);
    expect(
      Math.abs(dueAt(await grants.getJob(jobId.warn(request.id))) - (newEnd - 10 * MINUTE)),
    ).toBeLessThan(2000);
    expect(await expiryPolicyDate(app.iam, request.id)).toBe(new Date(newEnd).toISOString());

    // short-reader allows 2h in total: 1h30m + 1h is too much.
    await command(app, `extend ${request.id} 1h`);
    const refusal = await responses(app, 'in total');
    expect(refusal).toContain(
      'a grant of short-reader may last at most 2h in total; this one can grow by at most 30m',
    );
    expect((await app.service.requests.get(request.id))?.expiresAt).toBe(newEnd);
    expect(await expiryPolicyDate(app.iam, request.id)).toBe(new Date(newEnd).toISOString());
  });

  it('under a rule without auto-approved extensions, an approver of the rule decides; the requester cannot', async () => {
    app = await startLifecycleApp();
    const { request } = await activeGrant(app, '1h');
    await command(app, `extend ${request.id} 30m`);
    await responses(app, 'sent to the approvers of rule default');
    expect((await app.service.requests.get(request.id))?.expiresAt).toBe(request.expiresAt);

    const posted = await app.fake.waitForCall('chat.postMessage', (c) =>
      JSON.stringify(c.args.blocks ?? []).includes('extension_approve'),
    );
    const message = { channel: String(posted.args.channel), ts: String(posted.response?.ts) };
    const clickApprove = (userId: string) =>
      app!.post(
        blockActionsBody({
          userId,
          actionId: 'extension_approve',
          value: request.id,
          blockId: 'extension',
          message,
        }),
      );

    await clickApprove(REQUESTER);
    await waitUntil(
      () => ephemeralsTo(app!.fake, REQUESTER).find((t) => t.includes('your own request')),
      'the self-approval refusal',
    );
    expect((await app.service.requests.get(request.id))?.extensions).toBe(0);

    await clickApprove(APPROVER1);
    const extended = await waitUntil(async () => {
      const r = await app!.service.requests.get(request.id);
      return r?.extensions === 1 ? r : undefined;
    }, 'the approved extension');
    const newEnd = request.expiresAt! + 30 * MINUTE;
    expect(extended.expiresAt).toBe(newEnd);
    expect(extended.pendingExtension).toBeUndefined();
    // The store records the extension first; IAM and the jobs follow (a crash in between leaves
    // IAM ending access early, the safe side), so wait for them.
    await waitUntil(
      async () => (await expiryPolicyDate(app!.iam, request.id)) === new Date(newEnd).toISOString(),
      'the expiry policy rewritten in IAM',
    );
    await waitUntil(async () => {
      const revokeJob = await app!.service.queues.get(QueueName.grants).getJob(jobId.revoke(request.id));
      return Math.abs(dueAt(revokeJob) - newEnd) < 2000;
    }, 'the revoke job moved');
    await waitUntil(
      () => dmsTo(app!.fake, REQUESTER).find((c) => String(c.args.text).includes('extension of request')),
      'the requester DM',
    );
    // The extension message lost its buttons.
    const update = await app.fake.waitForCall('chat.update', (c) => c.args.ts === message.ts);
    expect(JSON.stringify(update.args.blocks)).not.toContain('extension_approve');
  });

  it('the expiry warning is a DM with an Extend button that extends within the limits', async () => {
    app = await startLifecycleApp({ mutate: autoApprovedExtensions });
    const { request } = await activeGrant(app, '1h');
    // Bring the warning forward instead of waiting 50 minutes.
    const warn = await app.service.queues.get(QueueName.grants).getJob(jobId.warn(request.id));
    await warn!.promote();
    const dm = await waitUntil(
      () =>
        dmsTo(app!.fake, REQUESTER).find((c) => JSON.stringify(c.args.blocks ?? []).includes('grant_extend')),
      'the expiry warning DM',
    );
    expect(String(dm.args.text)).toContain(`ends at ${new Date(request.expiresAt!).toISOString()}`);
    expect(JSON.stringify(dm.args.blocks)).toContain('You can add up to 1h');

    await app.post(
      blockActionsBody({
        userId: REQUESTER,
        actionId: 'grant_extend',
        value: request.id,
        blockId: 'expiry',
        message: { channel: REQUESTER, ts: String(dm.response?.ts) },
      }),
    );
    const opened = await app.fake.waitForCall('views.open');
    expect((opened.args.view as { callback_id: string }).callback_id).toBe(EXTEND_MODAL_ID);
    await app.post(
      viewSubmissionBody({
        userId: REQUESTER,
        callbackId: EXTEND_MODAL_ID,
        privateMetadata: request.id,
        values: { duration: { duration: { type: 'static_select', selected_option: { value: '1800' } } } },
      }),
    );
    const extended = await waitUntil(async () => {
      const r = await app!.service.requests.get(request.id);
      return r?.extensions === 1 ? r : undefined;
    }, 'the extension');
    expect(extended.expiresAt).toBe(request.expiresAt! + 30 * MINUTE);
  });
  it('is refused once the grant has ended, even while the revoke job is late; nothing changes', async () => {
    const clock = new ShiftClock();
    app = await startLifecycleApp({ mutate: autoApprovedExtensions, clock });
    const { request } = await activeGrant(app, '1h');
    const grants = app.service.queues.get(QueueName.grants);
    const revokeDue = dueAt(await grants.getJob(jobId.revoke(request.id)));

    // The grant's end passes; the revoke job has not run yet (its delay was set in real time).
    clock.advance(request.expiresAt! - Date.now() + 1000);
    expect((await app.service.requests.get(request.id))?.state).toBe('active');
    await command(app, `extend ${request.id} 30m`);
    const refusal = await responses(app, 'can no longer be extended');
    expect(refusal).toContain(
      `the grant of request ${request.id} ended at ${new Date(request.expiresAt!).toISOString()} and can no longer be extended; nothing was changed`,
    );
    const after = (await app.service.requests.get(request.id))!;
    expect(after).toMatchObject({ expiresAt: request.expiresAt, extensions: 0, state: 'active' });
    expect(await expiryPolicyDate(app.iam, request.id)).toBe(new Date(request.expiresAt!).toISOString());
    expect(dueAt(await grants.getJob(jobId.revoke(request.id)))).toBe(revokeDue);
  });

  it('an approver’s click after the grant ended does not apply the waiting extension', async () => {
    const clock = new ShiftClock();
    app = await startLifecycleApp({ clock });
    const { request } = await activeGrant(app, '1h');
    await command(app, `extend ${request.id} 30m`);
    await responses(app, 'sent to the approvers of rule default');
    const { clickApprove } = await extensionMessage(app, request.id);

    clock.advance(request.expiresAt! - Date.now() + 1000);
    await clickApprove(APPROVER1);
    const refusal = await waitUntil(
      () => ephemeralsTo(app!.fake, APPROVER1).find((t) => t.includes('can no longer be extended')),
      'the refusal to the approver',
    );
    expect(refusal).toContain(`ended at ${new Date(request.expiresAt!).toISOString()}`);
    const after = (await app.service.requests.get(request.id))!;
    expect(after).toMatchObject({ expiresAt: request.expiresAt, extensions: 0, state: 'active' });
    // The waiting extension is withdrawn, so no later click can apply it either.
    expect(after.pendingExtension).toBeUndefined();
    expect(await expiryPolicyDate(app.iam, request.id)).toBe(new Date(request.expiresAt!).toISOString());
  });

  it('under a rule that needs 2 approvals, one approval leaves the extension waiting; a second approver applies it', async () => {
    app = await startLifecycleApp({
      mutate: (config) => {
        config.approval.rules.find((r) => r.name === 'default')!.approvalsRequired = 2;
      },
    });
    // The grant itself needs both approvers too.
    await command(app, 'sandbox short-reader 1h checking the lifecycle', REQUESTER);
    const asked = await approverMessage(app.fake);
    await click(app, APPROVER1, 'request_approve', asked);
    await click(app, APPROVER2, 'request_approve', asked);
    const request = await waitUntil(async () => {
      const r = await app!.service.requests.get(asked.requestId);
      return r?.state === 'active' ? r : undefined;
    }, 'the grant');
    const originalEnd = new Date(request.expiresAt!).toISOString();
    await waitUntil(() => expiryPolicyDate(app!.iam, request.id).then((d) => d === originalEnd), 'IAM');

    await command(app, `extend ${request.id} 30m`);
    await responses(app, '(2 approvals needed)');
    const { message, clickApprove } = await extensionMessage(app, request.id);
    // The service stores where the message is just after posting it (a versioned write): a click
    // in between would be refused as "changed meanwhile"; people are not that fast, so wait.
    await waitUntil(
      async () => (await app!.service.requests.get(request.id))?.pendingExtension?.message,
      'the extension message stored',
    );

    // APPROVER1 was already told "1 of 2" about the grant itself: only answers from now on count.
    const earlier = ephemeralsTo(app.fake, APPROVER1).length;
    const answersTo = (userId: string) => ephemeralsTo(app!.fake, userId).slice(earlier);
    await clickApprove(APPROVER1);
    await waitUntil(
      () => answersTo(APPROVER1).find((t) => t.includes('Approval counted: 1 of 2')),
      'the counted approval',
    );
    const counted = (await app.service.requests.get(request.id))!;
    expect(counted.pendingExtension?.approvals).toEqual([APPROVER1]);
    expect(counted).toMatchObject({ expiresAt: request.expiresAt, extensions: 0 });
    expect(await expiryPolicyDate(app.iam, request.id)).toBe(originalEnd);
    await app.fake.waitForCall(
      'chat.update',
      (c) => c.args.ts === message.ts && JSON.stringify(c.args).includes('(1 of 2)'),
    );

    // The same approver again counts nothing.
    await clickApprove(APPROVER1);
    await waitUntil(
      () => answersTo(APPROVER1).find((t) => t.includes('already approved')),
      'the repeated click refused',
    );
    expect(await app.service.requests.get(request.id)).toMatchObject({
      expiresAt: request.expiresAt,
      extensions: 0,
    });

    await clickApprove(APPROVER2);
    const extended = await waitUntil(async () => {
      const r = await app!.service.requests.get(request.id);
      return r?.extensions === 1 ? r : undefined;
    }, 'the extension applied by the second approval');
    const newEnd = request.expiresAt! + 30 * MINUTE;
    expect(extended.expiresAt).toBe(newEnd);
    expect(extended.pendingExtension).toBeUndefined();
    await waitUntil(
      async () => (await expiryPolicyDate(app!.iam, request.id)) === new Date(newEnd).toISOString(),
      'the expiry policy rewritten in IAM',
    );
  });
});
