/**
 * The review after a break-glass grant, end to end: signed block_actions through the real Bolt
 * receiver, the fake Slack Web API, real Redis. The grant happens at once; the "Mark reviewed"
 * click is checked at click time like an approval and recorded once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config/schema.js';
import type { AuditEvent } from '../../src/domain/audit-event.js';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import type { RecordedCall } from '../support/fake-slack.js';
import { testRule } from '../support/rules.js';
import { testConfig } from '../support/services.js';
import { blockActionsBody } from '../support/slack-request.js';
import {
  APPROVER1,
  command,
  ephemeralsTo,
  GUEST,
  ONCALL_GROUP,
  PROD_APPROVERS,
  REQUESTER,
  seedPeople,
  STRANGER,
  waitUntil,
  type ApproverMessage,
} from '../support/slack-flow.js';

const REVIEW = 'breakglass_review';
const GROUP_APPROVER = PROD_APPROVERS[0]!;

let app: TestApp | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

async function start(mutate?: (config: AppConfig) => void): Promise<TestApp> {
  app = await startTestApp({
    loaded: testConfig((c) => {
      c.approval.rules.unshift(
        testRule({
          name: 'break-glass',
          match: { templates: ['admin-breakglass'] },
          // One approver by name, the others through a user group looked up at click time.
          approvers: { users: [APPROVER1, GUEST], groups: ['S0PRODAPPR'] },
          breakGlass: { templates: ['admin-breakglass'], requesterGroups: [ONCALL_GROUP] },
        }),
      );
      mutate?.(c);
    }),
  });
  seedPeople(app.fake);
  return app;
}

function hasReviewButton(call: RecordedCall): boolean {
  return JSON.stringify(call.args.blocks ?? []).includes(`"action_id":"${REVIEW}"`);
}

/** Takes break-glass access as the requester and returns the review message posted to approvers. */
async function breakGlass(a: TestApp): Promise<ApproverMessage> {
  await command(a, 'prod admin-breakglass 1h INC-7 database on fire');
  const call = await waitUntil(
    () =>
      a.fake.callsTo('chat.postMessage').find((c) => c.args.channel === 'C0APPROVALS' && hasReviewButton(c)),
    'the review message',
  );
  const blocks = call.args.blocks as Array<{ elements?: Array<{ action_id?: string; value?: string }> }>;
  const button = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === REVIEW);
  const requestId = button!.value!;
  await waitUntil(async () => (await a.service.requests.get(requestId))?.state === 'active', 'active grant');
  return { requestId, channel: String(call.args.channel), ts: String(call.response?.ts), call };
}

function review(a: TestApp, userId: string, msg: ApproverMessage) {
  return a.post(
    blockActionsBody({
      userId,
      actionId: REVIEW,
      value: msg.requestId,
      blockId: 'review',
      message: { channel: msg.channel, ts: msg.ts },
    }),
  );
}

async function reviewEvents(a: TestApp, requestId: string): Promise<AuditEvent[]> {
  const entries = await a.service.audit.read('-', 1000);
  return entries
    .map((e) => e.event)
    .filter((e) => e.action === 'break-glass-review' && e.requestId === requestId);
}

function securityPosts(a: TestApp): RecordedCall[] {
  return a.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0SECURITY');
}

function reviewedUpdates(a: TestApp, msg: ApproverMessage): RecordedCall[] {
  return a.fake
    .callsTo('chat.update')
    .filter(
      (c) =>
        c.args.channel === msg.channel &&
        c.args.ts === msg.ts &&
        JSON.stringify(c.args.blocks).includes('Reviewed by'),
    );
}

describe('break-glass review', () => {
  it('the requester cannot review their own break-glass grant; a non-approver or a guest is refused', async () => {
    const a = await start();
    const msg = await breakGlass(a);
    for (const who of [REQUESTER, STRANGER, GUEST]) {
      expect((await review(a, who, msg)).status).toBe(200);
      await waitUntil(() => ephemeralsTo(a.fake, who).length > 0 || undefined, `answer to ${who}`);
    }
    expect(ephemeralsTo(a.fake, REQUESTER)[0]).toMatch(/cannot review your own/);
    expect(ephemeralsTo(a.fake, STRANGER)[0]).toMatch(/not an approver/);
    expect(ephemeralsTo(a.fake, GUEST)[0]).toMatch(/guest/);

    const stored = await a.service.requests.get(msg.requestId);
    expect(stored?.reviewedBy).toBeUndefined();
    expect(stored?.reviewedAt).toBeUndefined();
    const events = await reviewEvents(a, msg.requestId);
    expect(events.map((e) => [e.actor, e.outcome])).toEqual([
      [REQUESTER, 'refused'],
      [STRANGER, 'refused'],
      [GUEST, 'refused'],
    ]);
    expect(reviewedUpdates(a, msg)).toHaveLength(0);
  });

  it('an approver is checked at click time: removed from the user group since the post, they are refused', async () => {
    const a = await start();
    const msg = await breakGlass(a);
    a.fake.setUsergroup('S0PRODAPPR', PROD_APPROVERS.slice(1));
    await review(a, GROUP_APPROVER, msg);
    const answer = await waitUntil(() => ephemeralsTo(a.fake, GROUP_APPROVER)[0], 'refusal');
    expect(answer).toMatch(/not an approver/);
    expect((await a.service.requests.get(msg.requestId))?.reviewedBy).toBeUndefined();
  });

  it('an approver’s review is recorded once, audited, the message updated in place and security told; a second click changes nothing', async () => {
    const a = await start();
    const msg = await breakGlass(a);
    const before = await a.service.requests.get(msg.requestId);

    await review(a, GROUP_APPROVER, msg);
    const ok = await waitUntil(() => ephemeralsTo(a.fake, GROUP_APPROVER)[0], 'confirmation');
    expect(ok).toMatch(/reviewed/);
    const stored = await a.service.requests.get(msg.requestId);
    expect(stored).toMatchObject({
      reviewedBy: GROUP_APPROVER,
      state: 'active',
      expiresAt: before?.expiresAt,
    });
    expect(stored!.reviewedAt).toBeGreaterThan(0);
    expect(stored!.version).toBe(before!.version + 1);

    const events = await reviewEvents(a, msg.requestId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actor: GROUP_APPROVER,
      outcome: 'ok',
      requestId: msg.requestId,
      stateBefore: 'active',
      stateAfter: 'active',
    });

    const update = await waitUntil(() => reviewedUpdates(a, msg)[0], 'review message updated');
    const blocks = JSON.stringify(update.args.blocks);
    expect(blocks).toContain(`Reviewed by <@${GROUP_APPROVER}>`);
    expect(blocks).not.toContain(REVIEW);
    expect(blocks).not.toContain('request_approve');
    const told = await waitUntil(
      () =>
        securityPosts(a).find((c) =>
          JSON.stringify(c.args.blocks).includes(`reviewed by <@${GROUP_APPROVER}>`),
        ),
      'security channel told',
    );
    expect(JSON.stringify(told.args.blocks)).toContain(msg.requestId);

    // Another approver clicks the (stale) button: refused, naming who reviewed; nothing changes.
    const updatesBefore = a.fake.callsTo('chat.update').length;
    const securityBefore = securityPosts(a).length;
    await review(a, APPROVER1, msg);
    const refusal = await waitUntil(() => ephemeralsTo(a.fake, APPROVER1)[0], 'second click answer');
    expect(refusal).toMatch(new RegExp(`already reviewed by <@${GROUP_APPROVER}>`));
    const after = await a.service.requests.get(msg.requestId);
    expect(after).toEqual(stored);
    expect((await reviewEvents(a, msg.requestId)).map((e) => e.outcome)).toEqual(['ok', 'refused']);
    expect(a.fake.callsTo('chat.update')).toHaveLength(updatesBefore);
    expect(securityPosts(a)).toHaveLength(securityBefore);
  });

  it('of simultaneous clicks by several approvers exactly one review is recorded', async () => {
    const a = await start();
    const msg = await breakGlass(a);
    const clickers = [APPROVER1, ...PROD_APPROVERS];
    await Promise.all(clickers.map((u) => review(a, u, msg)));
    await waitUntil(
      () => clickers.every((u) => ephemeralsTo(a.fake, u).length > 0) || undefined,
      'an answer to every clicker',
    );
    const answers = clickers.map((u) => ephemeralsTo(a.fake, u)[0]!);
    expect(answers.filter((t) => /^Marked/.test(t))).toHaveLength(1);
    expect(answers.filter((t) => /already reviewed/.test(t))).toHaveLength(clickers.length - 1);
    const stored = await a.service.requests.get(msg.requestId);
    const winner = clickers[answers.findIndex((t) => /^Marked/.test(t))];
    expect(stored?.reviewedBy).toBe(winner);
    const ok = (await reviewEvents(a, msg.requestId)).filter((e) => e.outcome === 'ok');
    expect(ok.map((e) => e.actor)).toEqual([winner]);
  });

  it('App Home lists break-glass grants waiting for the approver’s review, until one is recorded', async () => {
    const a = await start();
    const msg = await breakGlass(a);
    const home = async (userId: string) => {
      const n = a.fake.callsTo('views.publish').length;
      await a.post(homeOpened(userId), { contentType: 'application/json' });
      const call = await waitUntil(() => a.fake.callsTo('views.publish')[n], `home for ${userId}`);
      expect(call.args.user_id).toBe(userId);
      return JSON.stringify(call.args.view);
    };
    const approverHome = await home(GROUP_APPROVER);
    expect(approverHome).toContain('Break-glass review');
    expect(approverHome).toContain(`"action_id":"${REVIEW}"`);
    expect(approverHome).toContain(msg.requestId);
    expect(await home(REQUESTER)).not.toContain(REVIEW);
    expect(await home(STRANGER)).not.toContain(REVIEW);

    await review(a, APPROVER1, msg);
    await waitUntil(async () => (await a.service.requests.get(msg.requestId))?.reviewedBy, 'reviewed');
    expect(await home(GROUP_APPROVER)).not.toContain(REVIEW);
  });
});

function homeOpened(userId: string): string {
  return JSON.stringify({
    token: 'legacy-verification-token',
    team_id: 'T0TEST',
    api_app_id: 'A0TEST',
    type: 'event_callback',
    event_id: `Ev${Date.now()}${Math.random().toString(36).slice(2, 8)}`,
    event_time: Math.floor(Date.now() / 1000),
    event: {
      type: 'app_home_opened',
      user: userId,
      channel: `D${userId}`,
      tab: 'home',
      event_ts: `${Date.now() / 1000}`,
    },
  });
}
