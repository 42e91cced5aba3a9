import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACCEPT_RISK_ACTION_ID, ACCEPT_RISK_MODAL_ID } from '../../src/slack/posture/messages.js';
import { HygieneStore } from '../../src/store/hygiene-store.js';
import { PostureStore } from '../../src/store/posture-store.js';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { blockActionsBody, viewSubmissionBody } from '../support/slack-request.js';

const FINDING = 'user-inline-policy:arn:aws:iam::111111111111:user/inline-carol';

describe('Accept risk on a posture message, through Slack', () => {
  let app: TestApp;
  let store: PostureStore;

  beforeEach(async () => {
    app = await startTestApp();
    store = new PostureStore(app.service.redis, app.loaded.config.redis.prefix);
    await store.saveMessage({ id: 'm-carol', slackUserId: 'U0CAROL', findingIds: [FINDING] });
  });
  afterEach(async () => app.stop());

  const click = (userId: string) =>
    app.post(
      blockActionsBody({
        userId,
        actionId: ACCEPT_RISK_ACTION_ID,
        value: 'm-carol',
        message: { channel: 'D0CAROL', ts: '1.000' },
      }),
    );
  const submit = (userId: string, reason: string) =>
    app.post(
      viewSubmissionBody({
        userId,
        callbackId: ACCEPT_RISK_MODAL_ID,
        privateMetadata: 'm-carol',
        values: {
          reason: { reason: { type: 'plain_text_input', value: reason } },
          days: { days: { type: 'static_select', selected_option: { value: '90' } } },
        },
      }),
    );

  it('only the owner the DM went to gets the modal', async () => {
    expect((await click('U0MALLORY')).status).toBe(200);
    await expect.poll(() => app.fake.callsTo('chat.postEphemeral').length).toBe(1);
    expect(app.fake.callsTo('chat.postEphemeral')[0]!.args.text).toBe(
      'Only <@U0CAROL> can accept these findings.',
    );
    expect(app.fake.callsTo('views.open')).toEqual([]);

    await click('U0CAROL');
    await expect.poll(() => app.fake.callsTo('views.open').length).toBe(1);
    const view = app.fake.callsTo('views.open')[0]!.args.view as {
      callback_id: string;
      private_metadata: string;
    };
    expect(view).toMatchObject({ callback_id: ACCEPT_RISK_MODAL_ID, private_metadata: 'm-carol' });
  });

  it('a reason is required; the acceptance is stored for the chosen days and audited', async () => {
    const empty = await submit('U0CAROL', '   ');
    expect(empty.json).toEqual({
      response_action: 'errors',
      errors: { reason: 'Say why, for the audit log' },
    });
    expect(await store.acceptedRisks([FINDING])).toEqual(new Map());

    const stolen = await submit('U0MALLORY', 'not mine to accept');
    expect(stolen.status).toBe(200);
    await expect.poll(() => app.fake.callsTo('chat.postMessage').length).toBe(1);
    expect(await store.acceptedRisks([FINDING])).toEqual(new Map());

    await submit('U0CAROL', 'moving it to a group policy this sprint');
    await expect.poll(async () => (await store.acceptedRisks([FINDING])).get(FINDING)?.by).toBe('U0CAROL');
    const risk = (await store.acceptedRisks([FINDING])).get(FINDING)!;
    expect(Date.parse(risk.until) - Date.parse(risk.at)).toBe(90 * 86_400_000);
    expect(risk.reason).toBe('moving it to a group policy this sprint');
    const audit = await new HygieneStore(app.service.redis, app.loaded.config.redis.prefix).readAudit();
    expect(audit).toEqual([
      expect.objectContaining({
        type: 'posture.risk-accepted',
        actor: 'U0CAROL',
        findingId: FINDING,
        detail: expect.stringContaining('moving it to a group policy this sprint'),
      }),
    ]);
  });

  describe('a security-channel post (no owner)', () => {
    const CHANNEL_FINDING = 'wildcard-policy:arn:aws:iam::111111111111:policy/everything';
    let security: string;

    beforeEach(async () => {
      security = app.loaded.config.slack.channels.security;
      // More members than one conversations.members page, so the check has to page.
      const others = Array.from({ length: 150 }, (_, i) => `U0SEC${String(i).padStart(3, '0')}`);
      app.fake.channelMembers.set(security, [...others, 'U0ERIN']);
      await store.saveMessage({ id: 'm-channel', findingIds: [CHANNEL_FINDING] });
    });

    const clickChannel = (userId: string) =>
      app.post(
        blockActionsBody({
          userId,
          actionId: ACCEPT_RISK_ACTION_ID,
          value: 'm-channel',
          message: { channel: security, ts: '2.000' },
        }),
      );
    const submitChannel = (userId: string, days = '30') =>
      app.post(
        viewSubmissionBody({
          userId,
          callbackId: ACCEPT_RISK_MODAL_ID,
          privateMetadata: 'm-channel',
          values: {
            reason: { reason: { type: 'plain_text_input', value: 'reviewed' } },
            days: { days: { type: 'static_select', selected_option: { value: days } } },
          },
        }),
      );

    it('someone outside the security channel gets no modal', async () => {
      await clickChannel('U0MALLORY');
      await expect.poll(() => app.fake.callsTo('chat.postEphemeral').length).toBe(1);
      expect(app.fake.callsTo('chat.postEphemeral')[0]!.args.text).toBe(
        'Only members of the security channel can accept these findings.',
      );
      expect(app.fake.callsTo('views.open')).toEqual([]);

      await clickChannel('U0ERIN');
      await expect.poll(() => app.fake.callsTo('views.open').length).toBe(1);
    });

    it('a submission from outside the channel is refused; a member accepts', async () => {
      await submitChannel('U0MALLORY');
      await expect.poll(() => app.fake.callsTo('chat.postMessage').length).toBe(1);
      expect(app.fake.callsTo('chat.postMessage')[0]!.args.text).toBe(
        'Only members of the security channel can accept these findings.',
      );
      expect(await store.acceptedRisks([CHANNEL_FINDING])).toEqual(new Map());

      // A duration the modal does not offer is refused, not turned into an invalid date.
      await submitChannel('U0ERIN', '3650');
      await expect.poll(() => app.fake.callsTo('chat.postMessage').length).toBe(2);
      expect(await store.acceptedRisks([CHANNEL_FINDING])).toEqual(new Map());

      await submitChannel('U0ERIN');
      await expect
        .poll(async () => (await store.acceptedRisks([CHANNEL_FINDING])).get(CHANNEL_FINDING)?.by)
        .toBe('U0ERIN');
    });
  });
});
