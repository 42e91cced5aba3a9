import { afterEach, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config/schema.js';
import { jobId, QueueName } from '../../src/jobs/queues.js';
import { type TestApp } from '../support/app-harness.js';
import type { RecordedCall } from '../support/fake-slack.js';
import { testRule } from '../support/rules.js';
import {
  appHomeOpenedBody,
  blockSuggestionBody,
  slashCommandBody,
  viewSubmissionBody,
} from '../support/slack-request.js';
import {
  APPROVER1,
  APPROVER2,
  approverMessage,
  click,
  command,
  dmsTo,
  ephemeralsTo,
  GUEST,
  ONCALL_GROUP,
  PROD_APPROVERS,
  REQUESTER,
  startWithPeople,
  stateOf,
  STRANGER,
  updatesOf,
  waitUntil,
} from '../support/slack-flow.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

async function start(mutate?: (config: AppConfig) => void): Promise<TestApp> {
  app = await startWithPeople(mutate);
  return app;
}

function responses(a: TestApp): string[] {
  return a.fake.callsTo('response_url').map((c) => String(c.args.text));
}

describe('asking for access and getting it approved', () => {
  it('by command: approver message, Approve, one grant, delivery by DM, message updated', async () => {
    const a = await start();
    const res = await command(a, 'sbx readonly 1h checking alarms');
    expect(res.status).toBe(200);
    expect(res.elapsedMs).toBeLessThan(3000);
    const msg = await approverMessage(a.fake);
    expect(msg.channel).toBe('C0APPROVALS');
    expect(JSON.stringify(msg.call.args.blocks)).toContain('sandbox');
    expect(JSON.stringify(msg.call.args.blocks)).toContain('0 of 1');
    await waitUntil(() => responses(a).find((t) => t.includes('sent to the approvers')), 'ack reply');

    expect((await click(a, APPROVER1, 'request_approve', msg)).status).toBe(200);
    await waitUntil(async () => (await stateOf(a, msg.requestId)) === 'active', 'active grant');
    expect(a.grants.callsTo('grant')).toHaveLength(1);
    expect(a.grants.callsTo('grant')[0]).toMatchObject({
      requestId: msg.requestId,
      accountId: '222222222222',
    });

    const delivery = await waitUntil(
      () => dmsTo(a.fake, REQUESTER).find((c) => JSON.stringify(c.args.blocks ?? '').includes('switchrole')),
      'delivery DM',
    );
    expect(String(delivery.args.text)).not.toContain('switchrole');
    // Nothing about the delivery reached a channel.
    const channelPosts = a.fake
      .callsTo('chat.postMessage')
      .filter((c) => String(c.args.channel).startsWith('C'));
    expect(JSON.stringify(channelPosts.map((c) => c.args))).not.toContain('switchrole');

    const update = await waitUntil(
      () => updatesOf(a.fake, msg).find((c) => JSON.stringify(c.args.blocks).includes('*active*')),
      'message updated to active',
    );
    expect(JSON.stringify(update.args.blocks)).not.toContain('request_approve');
    const revoke = await a.service.queues.get(QueueName.grants).getJob(jobId.revoke(msg.requestId));
    expect(revoke).toBeDefined();
    // Operators see the lifecycle in the metrics the alerts use.
    const metrics = await (await fetch(`${a.baseUrl}/metrics`)).text();
    expect(metrics).toContain('aws_access_request_transitions_total{to="pending"} 1');
    expect(metrics).toContain('aws_access_request_transitions_total{to="approved"} 1');
    expect(metrics).toContain('aws_access_request_transitions_total{to="active"} 1');
  });

  it('by modal: type-ahead over accounts, inline errors, then the same approval flow', async () => {
    const a = await start();
    await a.post(slashCommandBody({ text: '', userId: REQUESTER, triggerId: 'trigger-1' }));
    const open = await a.fake.waitForCall('views.open');
    expect(open.args.trigger_id).toBe('trigger-1');
    const view = open.args.view as { callback_id: string; blocks: Array<{ block_id?: string }> };
    expect(view.callback_id).toBe('aws-access-request');
    expect(view.blocks.map((b) => b.block_id)).toEqual(
      expect.arrayContaining(['account', 'template', 'duration', 'reason']),
    );
    expect(JSON.stringify(view.blocks)).toContain('Read-only access to every service');

    const options = await a.post(
      blockSuggestionBody({ userId: REQUESTER, actionId: 'account', blockId: 'account', value: 'prod' }),
    );
    const opts = (options.json as { options: Array<{ value: string }> }).options;
    expect(opts.map((o) => o.value)).toEqual(['111111111111']);

    const values = (account: string, template: string, duration: string, reason: string) => ({
      account: { account: { type: 'external_select', selected_option: { value: account } } },
      template: { template: { type: 'static_select', selected_option: { value: template } } },
      duration: { duration: { type: 'static_select', selected_option: { value: duration } } },
      reason: { reason: { type: 'plain_text_input', value: reason } },
    });
    // Production needs a reason, and readonly allows at most 4h.
    const bad = await a.post(
      viewSubmissionBody({
        userId: REQUESTER,
        callbackId: 'aws-access-request',
        values: values('111111111111', 'readonly', String(8 * 3600), ''),
      }),
    );
    expect(bad.json).toMatchObject({ response_action: 'errors' });
    const errors = (bad.json as { errors: Record<string, string> }).errors;
    expect(errors.reason).toMatch(/reason is required/);
    expect(errors.duration).toMatch(/longer than allowed/);
    expect(a.fake.callsTo('chat.postMessage')).toHaveLength(0);

    const good = await a.post(
      viewSubmissionBody({
        userId: REQUESTER,
        callbackId: 'aws-access-request',
        values: values('222222222222', 'readonly', '3600', 'debugging'),
      }),
    );
    expect(good.status).toBe(200);
    expect(good.text).toBe('');
    const msg = await approverMessage(a.fake);
    await click(a, APPROVER2, 'request_approve', msg);
    await waitUntil(async () => (await stateOf(a, msg.requestId)) === 'active', 'active grant');
    expect(a.grants.callsTo('grant')).toHaveLength(1);
  });

  it('a two-approver rule shows 1 of 2 and grants nothing until the second approval; one approver counts once', async () => {
    const a = await start();
    await command(a, 'prod readonly 1h INC-7 looking at the outage');
    const msg = await approverMessage(a.fake);
    await click(a, PROD_APPROVERS[0]!, 'request_approve', msg);
    await waitUntil(
      () => updatesOf(a.fake, msg).find((c) => JSON.stringify(c.args.blocks).includes('1 of 2')),
      '1 of 2 shown',
    );
    expect(a.grants.callsTo('grant')).toHaveLength(0);
    expect(await stateOf(a, msg.requestId)).toBe('pending');

    await click(a, PROD_APPROVERS[0]!, 'request_approve', msg);
    await waitUntil(
      () => ephemeralsTo(a.fake, PROD_APPROVERS[0]!).find((t) => t.includes('already approved')),
      'already-approved explanation',
    );
    expect((await a.service.requests.get(msg.requestId))?.approvals).toHaveLength(1);
    expect(a.grants.callsTo('grant')).toHaveLength(0);

    await click(a, PROD_APPROVERS[1]!, 'request_approve', msg);
    await waitUntil(async () => (await stateOf(a, msg.requestId)) === 'active', 'active grant');
    expect(a.grants.callsTo('grant')).toHaveLength(1);
  });

  it('the requester cannot approve their own request, even when they are an approver', async () => {
    const a = await start((c) => {
      c.approval.rules[1]!.approvers.users.push(REQUESTER);
    });
    await command(a, 'sbx readonly 1h');
    const msg = await approverMessage(a.fake);
    const updatesBefore = updatesOf(a.fake, msg).length;
    await click(a, REQUESTER, 'request_approve', msg);
    await waitUntil(
      () => ephemeralsTo(a.fake, REQUESTER).find((t) => t.includes('your own request')),
      'refusal',
    );
    const request = await a.service.requests.get(msg.requestId);
    expect(request).toMatchObject({ state: 'pending', approvals: [], version: 1 });
    expect(updatesOf(a.fake, msg)).toHaveLength(updatesBefore);
    expect(a.grants.calls).toHaveLength(0);
  });

  it('a non-approver and a guest are refused and nothing changes', async () => {
    const a = await start();
    await command(a, 'sbx readonly 1h');
    const msg = await approverMessage(a.fake);
    await click(a, STRANGER, 'request_approve', msg);
    await click(a, PROD_APPROVERS[0]!, 'request_approve', msg);
    await waitUntil(
      () => ephemeralsTo(a.fake, STRANGER).find((t) => t.includes('not an approver')),
      'refusal',
    );
    await waitUntil(
      () => ephemeralsTo(a.fake, PROD_APPROVERS[0]!).find((t) => t.includes('not an approver')),
      'refusal for an approver of another rule',
    );
    expect(await a.service.requests.get(msg.requestId)).toMatchObject({ state: 'pending', approvals: [] });
    expect(a.grants.calls).toHaveLength(0);

    await command(a, 'sbx readonly 1h', GUEST);
    await waitUntil(
      () => a.fake.callsTo('response_url').find((c) => String(c.args.text).includes('guest accounts')),
      'guest refused',
    );
  });

  it('any click on a request already decided is refused and grants nothing more', async () => {
    const a = await start();
    await command(a, 'sbx readonly 1h');
    const msg = await approverMessage(a.fake);
    await click(a, APPROVER1, 'request_approve', msg);
    await waitUntil(async () => (await stateOf(a, msg.requestId)) === 'active', 'active grant');
    await click(a, APPROVER2, 'request_approve', msg);
    await click(a, APPROVER2, 'request_deny', msg);
    await waitUntil(
      () =>
        ephemeralsTo(a.fake, APPROVER2).filter((t) => t.includes('already active')).length === 2 || undefined,
      'two refusals',
    );
    expect(a.fake.callsTo('views.open')).toHaveLength(0);
    expect(a.grants.callsTo('grant')).toHaveLength(1);
    expect(await stateOf(a, msg.requestId)).toBe('active');
  });

  it('20 concurrent Approve clicks from different approvers produce exactly one grant and one revoke job', async () => {
    const many = Array.from({ length: 20 }, (_, i) => `U0MANY${String(i).padStart(2, '0')}`);
    const a = await start((c) => {
      c.approval.rules.unshift(
        testRule({
          name: 'crowd',
          match: { accounts: ['sandbox'] },
          approvers: { users: [], groups: ['S0MANY'] },
        }),
      );
    });
    for (const id of many) a.fake.addUser({ id });
    a.fake.setUsergroup('S0MANY', many);
    a.grants.delayMs = 150;
    await command(a, 'sbx readonly 1h');
    const msg = await approverMessage(a.fake);
    const results = await Promise.all(many.map((u) => click(a, u, 'request_approve', msg)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    await waitUntil(async () => (await stateOf(a, msg.requestId)) === 'active', 'active grant');
    await waitUntil(() => many.every((u) => ephemeralsTo(a.fake, u).length > 0) || undefined, 'all answered');
    expect(a.grants.callsTo('grant')).toHaveLength(1);
    const request = await a.service.requests.get(msg.requestId);
    expect(request?.approvals).toHaveLength(1);
    const grantsQueue = a.service.queues.get(QueueName.grants);
    const delayed = await grantsQueue.getJobs(['delayed', 'waiting', 'active']);
    expect(delayed.filter((j) => j.name === 'revoke').map((j) => j.id)).toEqual([
      jobId.revoke(msg.requestId),
    ]);
    expect(await grantsQueue.getJob(jobId.warn(msg.requestId))).toBeDefined();
  });

  it('Deny asks for a reason, then denies, tells the requester why and updates the message', async () => {
    const a = await start();
    await command(a, 'sbx readonly 1h');
    const msg = await approverMessage(a.fake);
    await click(a, APPROVER1, 'request_deny', msg);
    const open = await a.fake.waitForCall('views.open');
    const view = open.args.view as { callback_id: string; private_metadata: string };
    expect(view).toMatchObject({ callback_id: 'aws-access-deny', private_metadata: msg.requestId });
    const empty = await a.post(
      viewSubmissionBody({
        userId: APPROVER1,
        callbackId: 'aws-access-deny',
        privateMetadata: msg.requestId,
        values: { reason: { reason: { type: 'plain_text_input', value: '  ' } } },
      }),
    );
    expect(empty.json).toMatchObject({ response_action: 'errors' });
    await a.post(
      viewSubmissionBody({
        userId: APPROVER1,
        callbackId: 'aws-access-deny',
        privateMetadata: msg.requestId,
        values: { reason: { reason: { type: 'plain_text_input', value: 'use the staging account' } } },
      }),
    );
    await waitUntil(async () => (await stateOf(a, msg.requestId)) === 'denied', 'denied');
    const request = await a.service.requests.get(msg.requestId);
    expect(request).toMatchObject({ denyReason: 'use the staging account', decidedBy: APPROVER1 });
    const update = await waitUntil(
      () =>
        updatesOf(a.fake, msg).find((c) => JSON.stringify(c.args.blocks).includes('use the staging account')),
      'updated message',
    );
    expect(JSON.stringify(update.args.blocks)).not.toContain('request_approve');
    await waitUntil(
      () =>
        dmsTo(a.fake, REQUESTER).find((c) =>
          JSON.stringify(c.args.blocks).includes('use the staging account'),
        ),
      'requester told why',
    );
    expect(a.grants.calls).toHaveLength(0);
  });

  it('the requester can cancel a pending request; its timers are removed', async () => {
    const a = await start();
    await command(a, 'sbx readonly 1h');
    const msg = await approverMessage(a.fake);
    const approvals = a.service.queues.get(QueueName.approvals);
    expect(await approvals.getJob(jobId.expire(msg.requestId))).toBeDefined();
    await command(a, `cancel ${msg.requestId}`, STRANGER);
    await command(a, `cancel ${msg.requestId}`, APPROVER1);
    await command(a, `cancel ${msg.requestId}`);
    await waitUntil(
      () => updatesOf(a.fake, msg).find((c) => JSON.stringify(c.args.blocks).includes('cancelled')),
      'update',
    );
    expect(await stateOf(a, msg.requestId)).toBe('cancelled');
    expect(await approvals.getJob(jobId.expire(msg.requestId))).toBeUndefined();
    expect(await approvals.getJob(jobId.remind(msg.requestId))).toBeUndefined();
    const texts = a.fake.callsTo('response_url').map((c) => String(c.args.text));
    // An approver is told why; a stranger is told the request does not exist.
    expect(texts.some((t) => t.includes('only the requester can cancel'))).toBe(true);
    expect(texts.some((t) => t.includes(`request ${msg.requestId} does not exist`))).toBe(true);
    await click(a, APPROVER1, 'request_approve', msg);
    await waitUntil(
      () => ephemeralsTo(a.fake, APPROVER1).find((t) => t.includes('already cancelled')),
      'refusal',
    );
    expect(a.grants.calls).toHaveLength(0);
  });

  it('a reason with <!channel>, <@U123>, <http://x|y> and *bold* shows literally and pings or links nobody', async () => {
    const a = await start();
    const reason = '<!channel> <@U123> <http://x|y> *bold* & more';
    await command(a, `sbx readonly 1h ${reason}`);
    const msg = await approverMessage(a.fake);
    const reasonBlock = (
      msg.call.args.blocks as Array<{ block_id?: string; text?: { type: string; text: string } }>
    ).find((b) => b.block_id === 'reason');
    expect(reasonBlock?.text).toEqual({ type: 'plain_text', text: reason, emoji: false });
    await click(a, APPROVER1, 'request_approve', msg);
    await waitUntil(async () => (await stateOf(a, msg.requestId)) === 'active', 'active');
    await waitUntil(() => updatesOf(a.fake, msg).length > 0 || undefined, 'update');

    // Walk every Slack call: no mrkdwn text and no fallback text carries the raw markup.
    const dangerous = ['<!channel>', '<@U123>', '<http://x|y>', '*bold*'];
    const mrkdwnTexts: string[] = [];
    const collect = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(collect);
      if (!node || typeof node !== 'object') return;
      const o = node as Record<string, unknown>;
      if (o.type === 'mrkdwn' && typeof o.text === 'string') mrkdwnTexts.push(o.text);
      Object.values(o).forEach(collect);
    };
    const calls: RecordedCall[] = a.fake.calls.filter((c) => /^(chat\.|views\.|response_url)/.test(c.method));
    for (const call of calls) {
      collect(call.args.blocks);
      collect(call.args.view);
      if (typeof call.args.text === 'string') mrkdwnTexts.push(call.args.text);
    }
    expect(mrkdwnTexts.length).toBeGreaterThan(3);
    for (const text of mrkdwnTexts) {
      for (const d of dangerous) expect(text).not.toContain(d);
    }
  });

  it('break-glass is granted at once, pages the security channel and asks approvers for a review', async () => {
    const a = await start((c) => {
      c.approval.rules.unshift(
        testRule({
          name: 'break-glass',
          match: { templates: ['admin-breakglass'] },
          approvers: { users: [APPROVER1], groups: [] },
          breakGlass: { templates: ['admin-breakglass'], requesterGroups: [ONCALL_GROUP] },
          reason: { required: true, pattern: '^INC-\\d+', hint: 'start with the incident number' },
        }),
      );
    });
    await command(a, 'prod admin-breakglass 1h no ticket');
    await waitUntil(
      () =>
        a.fake
          .callsTo('response_url')
          .find((c) => String(c.args.text).includes('start with the incident number')),
      'pattern refusal',
    );
    expect(a.grants.calls).toHaveLength(0);

    await command(a, 'prod admin-breakglass 1h INC-42 database on fire');
    await waitUntil(() => a.grants.callsTo('grant').length === 1 || undefined, 'immediate grant');
    const alert = await a.fake.waitForCall('chat.postMessage', (c) => c.args.channel === 'C0SECURITY');
    expect(JSON.stringify(alert.args.blocks)).toContain('INC-42 database on fire');
    const review = await a.fake.waitForCall(
      'chat.postMessage',
      (c) => c.args.channel === 'C0APPROVALS' && JSON.stringify(c.args.blocks).includes('please review'),
    );
    expect(JSON.stringify(review.args.blocks)).not.toContain('request_approve');
    expect(JSON.stringify(review.args.blocks)).toContain('"action_id":"breakglass_review"');
    await waitUntil(
      () => dmsTo(a.fake, REQUESTER).find((c) => JSON.stringify(c.args.blocks ?? '').includes('switchrole')),
      'delivery',
    );
  });

  it('a failing grant ends in failed, alerts security and tells the requester', async () => {
    const a = await start();
    a.grants.failNext('grant', new Error('MalformedPolicyDocument: boom'));
    await command(a, 'sbx readonly 1h');
    const msg = await approverMessage(a.fake);
    await click(a, APPROVER1, 'request_approve', msg);
    await waitUntil(async () => (await stateOf(a, msg.requestId)) === 'failed', 'failed');
    await a.fake.waitForCall(
      'chat.postMessage',
      (c) => c.args.channel === 'C0SECURITY' && String(c.args.text).includes('MalformedPolicyDocument'),
    );
    expect(await a.service.queues.get(QueueName.grants).getJob(jobId.revoke(msg.requestId))).toBeUndefined();
  });

  it('list, status, revoke and App Home show and end the requester’s grants', async () => {
    const a = await start();
    await command(a, 'sbx readonly 1h');
    const msg = await approverMessage(a.fake);
    await click(a, APPROVER1, 'request_approve', msg);
    await waitUntil(async () => (await stateOf(a, msg.requestId)) === 'active', 'active');
    const list = await command(a, 'list');
    expect(JSON.stringify(list.json)).toContain(msg.requestId);
    const status = await command(a, `status ${msg.requestId}`, STRANGER);
    expect(JSON.stringify(status.json)).toContain('does not exist');
    const event = await a.post(appHomeOpenedBody(REQUESTER), { contentType: 'application/json' });
    expect(event.status).toBe(200);
    const home = await a.fake.waitForCall('views.publish');
    expect(JSON.stringify(home.args.view)).toContain(msg.requestId);
    expect(JSON.stringify(home.args.view)).toContain('home_revoke');
    await command(a, `revoke ${msg.requestId}`);
    await waitUntil(async () => (await stateOf(a, msg.requestId)) === 'revoked', 'revoked');
    expect(a.grants.callsTo('revoke')).toHaveLength(1);
    // The state turns revoked before the scheduled revoke job is removed: wait for the removal.
    await waitUntil(
      async () =>
        (await a.service.queues.get(QueueName.grants).getJob(jobId.revoke(msg.requestId))) === undefined,
      'the revoke job removed',
    );
  });
});
