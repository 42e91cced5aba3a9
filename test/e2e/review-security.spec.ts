/**
 * Findings of the security review, each pinned by a test: stale extension clicks, Slack
 * fallback texts escaped, bounded reasons, malformed Slack timestamps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { testConfig } from '../support/services.js';
import { blockActionsBody } from '../support/slack-request.js';
import type { RecordedCall } from '../support/fake-slack.js';
import {
  APPROVER1,
  APPROVER2,
  approverMessage,
  click,
  command,
  ephemeralsTo,
  REQUESTER,
  seedPeople,
  waitUntil,
} from '../support/slack-flow.js';

function buttonValue(call: RecordedCall, actionId: string): string {
  const blocks = call.args.blocks as Array<{ elements?: Array<{ action_id?: string; value?: string }> }>;
  const button = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === actionId);
  return button!.value!;
}

async function activeGrant(app: TestApp): Promise<string> {
  await command(app, 'sbx readonly 1h');
  const msg = await approverMessage(app.fake);
  await click(app, APPROVER1, 'request_approve', msg);
  await waitUntil(
    async () => (await app.service.requests.get(msg.requestId))?.state === 'active',
    'the active grant',
  );
  return msg.requestId;
}

describe('security review', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('a click on the message of an extension already decided does not decide a newer extension', async () => {
    app = await startTestApp();
    seedPeople(app.fake);
    const requestId = await activeGrant(app);
    const extensionMessages = () =>
      app!.fake
        .callsTo('chat.postMessage')
        .filter((c) => JSON.stringify(c.args.blocks ?? []).includes('extension_approve'));

    await command(app, `extend ${requestId} 30m`);
    const first = await waitUntil(() => extensionMessages()[0], 'the first extension message');
    const firstMessage = { channel: String(first.args.channel), ts: String(first.response?.ts) };
    const clickOnFirst = (userId: string, actionId: 'extension_approve' | 'extension_deny') =>
      app!.post(
        blockActionsBody({
          userId,
          actionId,
          value: buttonValue(first, actionId),
          blockId: 'extension',
          message: firstMessage,
        }),
      );
    await clickOnFirst(APPROVER2, 'extension_deny');
    await waitUntil(
      async () => (await app!.service.requests.get(requestId))?.pendingExtension === undefined,
      'the first extension denied',
    );

    // The requester asks again, for longer; approvers see a new message for it.
    await command(app, `extend ${requestId} 2h`);
    await waitUntil(() => extensionMessages()[1], 'the second extension message');

    // An approver clicks Approve on the first (stale) message, e.g. from a client not yet redrawn.
    await clickOnFirst(APPROVER1, 'extension_approve');
    await waitUntil(
      () => ephemeralsTo(app!.fake, APPROVER1).find((t) => t.includes('already decided')),
      'the stale-click refusal',
    );
    const after = await app.service.requests.get(requestId);
    expect(after?.extensions).toBe(0);
    expect(after?.pendingExtension).toMatchObject({ seconds: 7200, approvals: [] });
    expect(app.grants.callsTo('extend')).toHaveLength(0);
  });

  it('fallback texts (notifications) escape account and template names from Organizations or config', async () => {
    // Anyone with PutAccountName in a member account chooses its name.
    const hostile = 'sandbox <!channel> <https://evil.example|click>';
    app = await startTestApp({
      loaded: testConfig((config) => {
        config.aws.accounts.find((a) => a.id === '222222222222')!.name = hostile;
      }),
    });
    seedPeople(app.fake);
    await command(app, 'sbx readonly 1h');
    const msg = await approverMessage(app.fake);
    await click(app, APPROVER1, 'request_approve', msg);
    await waitUntil(
      async () => (await app!.service.requests.get(msg.requestId))?.state === 'active',
      'the active grant',
    );
    await app.service.requests.revokeGrant(msg.requestId, REQUESTER);
    await waitUntil(
      () => app!.fake.callsTo('chat.update').find((c) => String(c.args.text).includes('revoked')),
      'the revoked message update',
    );
    const texts = app.fake
      .callsTo('chat.postMessage')
      .concat(app.fake.callsTo('chat.update'))
      .map((c) => String(c.args.text));
    // Every post and update about this request: the approver message, its updates, the DMs.
    expect(texts.filter((t) => t.includes('sandbox')).length).toBeGreaterThanOrEqual(4);
    for (const text of texts) {
      expect(text).not.toContain('<!channel>');
      expect(text).not.toContain('<https://evil.example');
    }
    // Section blocks the requester gets by DM are mrkdwn too.
    const dmBlocks = app.fake
      .callsTo('chat.postMessage')
      .filter((c) => c.args.channel === REQUESTER)
      .map((c) => JSON.stringify(c.args.blocks ?? []));
    for (const blocks of dmBlocks) expect(blocks).not.toContain('<!channel>');
  });
});
