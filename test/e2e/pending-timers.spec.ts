import { afterEach, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config/schema.js';
import { type TestApp } from '../support/app-harness.js';
import {
  approverMessage,
  command,
  dmsTo,
  startWithPeople,
  updatesOf,
  waitUntil,
} from '../support/slack-flow.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

async function start(mutate?: (config: AppConfig) => void): Promise<TestApp> {
  app = await startWithPeople(mutate, { role: 'all' });
  return app;
}

describe('pending requests over time', () => {
  it('reminds the approvers in the thread, then escalates to the escalation channel', async () => {
    const a = await start((c) => {
      const rule = c.approval.rules[1]!;
      rule.reminderAfter = 1;
      rule.escalateAfter = 2;
      rule.escalationChannel = 'C0ESCALATE';
    });
    await command(a, 'sbx readonly 1h');
    const msg = await approverMessage(a.fake);
    const reminder = await a.fake.waitForCall(
      'chat.postMessage',
      (c) => c.args.thread_ts === msg.ts && String(c.args.text).includes('Reminder'),
    );
    expect(String(reminder.args.text)).toContain('<@U0APPROVER1>');
    const escalation = await a.fake.waitForCall('chat.postMessage', (c) => c.args.channel === 'C0ESCALATE');
    expect(String(escalation.args.text)).toContain(msg.requestId);
    expect(escalation.at).toBeGreaterThan(reminder.at);
    expect(await a.service.requests.get(msg.requestId)).toMatchObject({ state: 'pending' });
  });

  it('expires a request nobody decided at its TTL and tells the requester', async () => {
    const a = await start((c) => {
      const rule = c.approval.rules[1]!;
      rule.ttl = 1;
    });
    await command(a, 'sbx readonly 1h');
    const msg = await approverMessage(a.fake);
    await waitUntil(
      async () => (await a.service.requests.get(msg.requestId))?.state === 'expired-unapproved',
      'expiry',
    );
    await waitUntil(
      () =>
        updatesOf(a.fake, msg).find((c) =>
          JSON.stringify(c.args.blocks).includes('expired without a decision'),
        ),
      'message updated',
    );
    await waitUntil(
      () =>
        dmsTo(a.fake, 'U0REQUESTER').find((c) => String(c.args.text).includes('expired without a decision')),
      'requester told',
    );
    // No reminder or escalation for a request that expired first.
    expect(
      a.fake.callsTo('chat.postMessage').filter((c) => String(c.args.text).includes('Reminder')),
    ).toHaveLength(0);
    expect(a.grants.calls).toHaveLength(0);
  });

  it('does not remind about a request that was decided before the reminder was due', async () => {
    const a = await start((c) => {
      const rule = c.approval.rules[1]!;
      rule.reminderAfter = 1;
      rule.escalateAfter = 1;
    });
    await command(a, 'sbx readonly 1h');
    const msg = await approverMessage(a.fake);
    const { click } = await import('../support/slack-flow.js');
    await click(a, 'U0APPROVER1', 'request_approve', msg);
    await waitUntil(async () => (await a.service.requests.get(msg.requestId))?.state === 'active', 'active');
    await new Promise((r) => setTimeout(r, 1500));
    expect(
      a.fake.callsTo('chat.postMessage').filter((c) => /Reminder|Escalation/.test(String(c.args.text))),
    ).toHaveLength(0);
  });
});
