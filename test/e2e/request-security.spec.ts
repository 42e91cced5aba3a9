import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { blockActionsBody } from '../support/slack-request.js';
import { testRedis } from '../support/services.js';
import {
  APPROVER1,
  approverMessage,
  command,
  seedPeople,
  type ApproverMessage,
} from '../support/slack-flow.js';

describe('forged or replayed Slack requests', () => {
  let app: TestApp;
  let msg: ApproverMessage;
  beforeAll(async () => {
    app = await startTestApp();
    seedPeople(app.fake);
    await command(app, 'sbx readonly 1h');
    msg = await approverMessage(app.fake);
    // Let the command's trailing work (requester DM, reply) finish before counting calls.
    await app.fake.waitForCall('response_url', (c) => String(c.args.text).includes('sent to the approvers'));
  });
  afterAll(async () => app.stop());

  const approveBody = () =>
    blockActionsBody({
      userId: APPROVER1,
      actionId: 'request_approve',
      value: msg.requestId,
      message: { channel: msg.channel, ts: msg.ts },
    });

  async function auditLength(): Promise<number> {
    const { redis, cleanup } = await testRedis('unused-prefix');
    try {
      return await redis.xlen(`${app.loaded.config.redis.prefix}:audit`);
    } finally {
      await cleanup();
    }
  }

  it('a bad signature, a stale timestamp and a future timestamp get 401 and change nothing', async () => {
    const callsBefore = app.fake.calls.length;
    const auditBefore = await auditLength();
    const now = Math.floor(Date.now() / 1000);
    const attempts = [
      await app.post(approveBody(), { secret: 'wrong-secret' }),
      await app.post(approveBody(), { signature: 'v0=deadbeef' }),
      await app.post(approveBody(), { timestamp: now - 6 * 60 }),
      await app.post(approveBody(), { timestamp: now + 6 * 60 }),
    ];
    expect(attempts.map((r) => r.status)).toEqual([401, 401, 401, 401]);
    await new Promise((r) => setTimeout(r, 300));
    expect(await app.service.requests.get(msg.requestId)).toMatchObject({
      state: 'pending',
      approvals: [],
      version: 1,
    });
    expect(app.grants.calls).toHaveLength(0);
    expect(app.fake.calls.length).toBe(callsBefore);
    expect(await auditLength()).toBe(auditBefore);

    // The same click, properly signed, does act: the rejections above were not for another reason.
    expect((await app.post(approveBody())).status).toBe(200);
    await app.fake.waitForCall('chat.update');
  });
});
