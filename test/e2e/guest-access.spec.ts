import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { testConfig } from '../support/services.js';
import { blockSuggestionBody, slashCommandBody } from '../support/slack-request.js';
import {
  APPROVER1,
  approverMessage,
  click,
  command,
  GUEST,
  REQUESTER,
  seedPeople,
  waitUntil,
} from '../support/slack-flow.js';

describe('people who may not ask for access learn nothing about the accounts', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('a guest gets no account type-ahead, no template list and no request form', async () => {
    app = await startTestApp({ loaded: testConfig() });
    seedPeople(app.fake);
    const running = app;
    const suggest = (userId: string) =>
      running.post(blockSuggestionBody({ userId, actionId: 'account', blockId: 'account', value: '' }));

    const forMember = (await suggest(REQUESTER)).json as { options: unknown[] };
    expect(forMember.options.length).toBeGreaterThan(0);
    const forGuest = (await suggest(GUEST)).json as { options: unknown[] };
    expect(forGuest.options).toEqual([]);

    const templates = await app.post(slashCommandBody({ text: 'templates', userId: GUEST }));
    const text = (templates.json as { text: string }).text;
    expect(text).toMatch(/guest/i);
    expect(text).not.toContain('readonly');

    await app.post(
      slashCommandBody({
        text: '',
        userId: GUEST,
        triggerId: 'trigger-guest',
        responseUrl: app.fake.responseUrl('guest'),
      }),
    );
    await waitUntil(
      () => running.fake.callsTo('response_url').find((c) => /guest/i.test(String(c.args.text))),
      'the refusal instead of the form',
    );
    expect(app.fake.callsTo('views.open')).toEqual([]);
  });

  it('someone who became a guest keeps the grant until it ends but cannot extend it', async () => {
    app = await startTestApp({
      loaded: testConfig((config) => {
        for (const rule of config.approval.rules) rule.extensions.autoApprove = true;
      }),
    });
    seedPeople(app.fake);
    const running = app;
    await command(app, 'sbx readonly 1h checking alarms');
    const msg = await approverMessage(app.fake);
    await click(app, APPROVER1, 'request_approve', msg);
    const active = await waitUntil(async () => {
      const r = await running.service.requests.get(msg.requestId);
      return r?.state === 'active' ? r : undefined;
    }, 'active grant');

    app.fake.addUser({ id: REQUESTER, is_restricted: true, email: 'requester@example.com' });
    await command(app, `extend ${msg.requestId} 30m`);
    await waitUntil(
      () => running.fake.callsTo('response_url').find((c) => /guest/i.test(String(c.args.text))),
      'the refusal',
    );
    const after = await running.service.requests.get(msg.requestId);
    expect(after?.state).toBe('active');
    expect(after?.expiresAt).toBe(active.expiresAt);
    expect(after?.extensions).toBe(0);
  });
});
