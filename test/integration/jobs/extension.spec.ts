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
import { blockActionsBody, viewSubmissionBody } from '../../support/slack-request.js';
import { APPROVER1, command, dmsTo, ephemeralsTo, REQUESTER, waitUntil } from '../../support/slack-flow.js';

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
});
