import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { rawPost } from '../support/raw-http.js';
import { blockActionsBody, signedRequest, slashCommandBody } from '../support/slack-request.js';
import { testRedis } from '../support/services.js';
import {
  APPROVER1,
  approverMessage,
  command,
  REQUESTER,
  seedPeople,
  waitUntil,
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

describe('the /slack/events door: size, shape, replay and process survival', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
    seedPeople(app.fake);
    // The bot's token is checked once, on the first signed request; let that call land before
    // counting calls.
    await command(app, 'help');
    await app.fake.waitForCall('auth.test');
  });
  afterAll(async () => app.stop());

  async function prefixKeys(): Promise<string[]> {
    return (await app.service.redis.keys(`${app.loaded.config.redis.prefix}:*`)).sort();
  }

  it('a body over 256 KB is refused before the signature check', async () => {
    const callsBefore = app.fake.calls.length;
    const keysBefore = await prefixKeys();
    const unsigned = {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': '1',
    };

    // Declared 4 MB, 1 KB sent: the answer comes at once, the rest is never read.
    const declared = await rawPost(app.baseUrl, {
      headers: { ...unsigned, 'content-length': String(4 * 1024 * 1024) },
      chunks: [Buffer.alloc(1024, 'a')],
      end: false,
      timeoutMs: 3000,
    });
    expect(declared.status).toBe(413);
    expect(declared.sentBeforeAnswer).toBeLessThanOrEqual(1024);

    // Chunked, no length: counted as it arrives and cut off at the limit, long before 4 MB.
    const streamed = await rawPost(app.baseUrl, {
      headers: { ...unsigned, 'transfer-encoding': 'chunked' },
      chunks: Array.from({ length: 256 }, () => Buffer.alloc(16 * 1024, 'b')),
      chunkDelayMs: 3,
      end: false,
      timeoutMs: 5000,
    });
    expect(streamed.status).toBe(413);
    expect(streamed.sentBeforeAnswer).toBeLessThan(1024 * 1024);

    // A correctly signed 300 KB body is refused for its size too (413, not 401 or 200).
    const big = signedRequest(
      slashCommandBody({ text: `help ${'x'.repeat(300 * 1024)}`, userId: REQUESTER }),
    );
    const signed = await rawPost(app.baseUrl, { headers: big.headers, chunks: [Buffer.from(big.body)] });
    expect(signed.status).toBe(413);

    await new Promise((r) => setTimeout(r, 200));
    expect(app.fake.calls.slice(callsBefore).map((c) => c.method)).toEqual([]);
    expect(await prefixKeys()).toEqual(keysBefore);
    expect((await fetch(`${app.baseUrl}/healthz`)).status).toBe(200);
  });

  it('a signed payload=null, or any body Bolt cannot dispatch, gets 400 and the process keeps serving', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      const payload = (json: string) => new URLSearchParams({ payload: json }).toString();
      const malformed = [
        payload('null'),
        payload('[]'),
        payload('"block_actions"'),
        payload('42'),
        payload('{"type":1}'),
        payload('{"type":"block_actions","user":{"id":"U0REQUESTER"}}'),
        payload('{"type":"block_actions","user":null,"actions":[{"action_id":"request_approve"}]}'),
        payload('{"type":"view_submission","user":{"id":"U0REQUESTER"},"view":null}'),
        payload('{"type":"block_suggestion","user":{"id":"U0REQUESTER"}}'),
        payload('{"type":"something_else","user":{"id":"U0REQUESTER"}}'),
        payload('{not json'),
        'payload=a&payload=b',
        'command=%2Faws-access&text=help',
        'command=%2Faws-access&user_id=U1&team_id=T1&text=a&text=b',
        '',
      ];
      for (const body of malformed) {
        const res = await app.post(body);
        expect({ body, status: res.status }).toEqual({ body, status: 400 });
      }
      for (const json of [
        'null',
        '[]',
        '{"type":"event_callback"}',
        '{"type":"event_callback","event":null}',
      ]) {
        const res = await app.post(json, { contentType: 'application/json' });
        expect({ json, status: res.status }).toEqual({ json, status: 400 });
      }
      expect((await app.post('{}', { contentType: 'text/plain' })).status).toBe(415);
      await new Promise((r) => setTimeout(r, 200));
      expect(rejections).toEqual([]);
      const help = await app.post(slashCommandBody({ text: 'help', userId: REQUESTER }));
      expect(help.status).toBe(200);
      expect(help.text).toContain('/aws-access');
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  it('a signed request replayed within the window is refused and processed once', async () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const body = slashCommandBody({
      text: 'sbx readonly 1h replay test',
      userId: REQUESTER,
      responseUrl: app.fake.responseUrl('replay'),
    });
    const approverPosts = () =>
      app.fake
        .callsTo('chat.postMessage')
        .filter((c) => JSON.stringify(c.args.blocks ?? '').includes('request_approve')).length;
    const before = approverPosts();

    const first = await app.post(body, { timestamp });
    expect(first.status).toBe(200);
    await waitUntil(() => approverPosts() === before + 1 || undefined, 'the request announced');

    const replay = await app.post(body, { timestamp });
    expect(replay.status).toBe(409);
    // Slack's own retry is signed afresh (new timestamp): that one is not a replay.
    const replayKeys = (await prefixKeys()).filter((k) => k.includes(':slack-replay:'));
    expect(replayKeys.length).toBeGreaterThanOrEqual(1);
    const ttl = await app.service.redis.ttl(replayKeys[0]!);
    expect(ttl).toBeGreaterThan(300);
    expect(ttl).toBeLessThanOrEqual(600);
    // The key is a hash: the signature itself is not stored.
    const signature = signedRequest(body, { timestamp }).headers['x-slack-signature']!;
    expect(replayKeys.join(' ')).not.toContain(signature.slice(3));

    await new Promise((r) => setTimeout(r, 300));
    expect(approverPosts()).toBe(before + 1);
  });

  it("the start command's process handlers log an unhandled rejection and keep the process alive", async () => {
    const run = async (installGuards: boolean) => {
      const child = spawn(
        path.resolve('node_modules/.bin/tsx'),
        [path.resolve('test/support/process-guards-child.ts')],
        {
          env: { ...process.env, INSTALL_GUARDS: installGuards ? '1' : '0' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      const [code] = (await once(child, 'exit')) as [number | null];
      return { code, stdout };
    };
    const guarded = await run(true);
    expect(guarded.code).toBe(0);
    expect(guarded.stdout).toContain('LISTENERS 1');
    expect(guarded.stdout).toContain('ALIVE');
    expect(guarded.stdout).toContain('unhandled promise rejection; still serving');
    expect(guarded.stdout).toContain('uncaught exception; still serving');
    expect(guarded.stdout).not.toContain('xoxb-1111');
    // Without them Node ends the process: the test above can fail.
    const bare = await run(false);
    expect(bare.code).not.toBe(0);
    expect(bare.stdout).not.toContain('ALIVE');
  });
});
