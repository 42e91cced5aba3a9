/**
 * The HTTP server's /slack/events gate in front of a real Bolt HTTPReceiver and App (no Redis,
 * no Slack: a recording replay guard, token verification off).
 */
import { systemClock } from '../../../src/clock.js';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { App, HTTPReceiver } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/http/metrics.js';
import type { ReplayGuard } from '../../../src/http/replay-guard.js';
import { createHttpServer, listen, type HttpServerOptions } from '../../../src/http/server.js';
import { SLACK_BODY_LIMIT_BYTES } from '../../../src/http/slack-gate.js';
import { createLogger } from '../../../src/logger.js';
import { rawPost } from '../../support/raw-http.js';
import {
  postToSlackEvents,
  signedRequest,
  slashCommandBody,
  TEST_SIGNING_SECRET,
} from '../../support/slack-request.js';

class RecordingGuard implements ReplayGuard {
  readonly seen: string[] = [];
  failWith?: Error;
  async firstUse(signature: string, timestamp: string): Promise<boolean> {
    if (this.failWith) throw this.failWith;
    const key = `${timestamp}:${signature}`;
    if (this.seen.includes(key)) return false;
    this.seen.push(key);
    return true;
  }
}

let server: Server | undefined;
afterEach(async () => {
  const running = server;
  server = undefined;
  if (!running) return;
  running.closeAllConnections();
  await new Promise((r) => running.close(r));
});

async function start(overrides: Partial<HttpServerOptions> = {}) {
  const receiver = new HTTPReceiver({ signingSecret: TEST_SIGNING_SECRET, endpoints: '/slack/events' });
  const app = new App({
    token: 'xoxb-unit-0000',
    botId: 'B0UNIT',
    botUserId: 'U0BOT',
    receiver,
    tokenVerificationEnabled: false,
  });
  const commands: string[] = [];
  app.command('/aws-access', async ({ ack, command }) => {
    commands.push(command.text);
    await ack(`got ${command.text}`);
  });
  const guard = new RecordingGuard();
  const metrics = createMetrics();
  server = createHttpServer({
    logger: createLogger({ level: 'silent' }),
    metrics,
    slackListener: receiver.requestListener,
    slackSigningSecret: TEST_SIGNING_SECRET,
    replayGuard: guard,
    checkReady: async () => undefined,
    clock: systemClock,
    ...overrides,
  });
  const port = await listen(server, 0, '127.0.0.1');
  return { baseUrl: `http://127.0.0.1:${port}`, commands, guard, metrics };
}

describe('the /slack/events gate', () => {
  it('sets header and request timeouts on the server', async () => {
    await start();
    expect(server!.headersTimeout).toBeLessThanOrEqual(10_000);
    expect(server!.requestTimeout).toBeGreaterThan(0);
    expect(server!.requestTimeout).toBeLessThanOrEqual(15_000);
  });

  it('a body that trickles in is cut off after the body-read timeout (408)', async () => {
    const { baseUrl, commands } = await start({ bodyLimits: { timeoutMs: 300 } });
    const request = signedRequest(slashCommandBody({ text: 'help', userId: 'U1' }));
    const answer = await rawPost(baseUrl, {
      headers: { ...request.headers, 'content-length': String(request.body.length) },
      chunks: [Buffer.from(request.body.slice(0, 10))],
      end: false,
      timeoutMs: 3000,
    });
    expect(answer.status).toBe(408);
    expect(answer.elapsedMs).toBeLessThan(2000);
    expect(commands).toEqual([]);
  });

  it('hands Bolt the body it already read, and counts a body at the limit as fine', async () => {
    const { baseUrl, commands } = await start();
    const res = await postToSlackEvents(baseUrl, slashCommandBody({ text: 'hello', userId: 'U1' }));
    expect(res.status).toBe(200);
    expect(res.text).toBe('got hello');
    // Pad a signed command up to exactly the limit: accepted; one byte more: 413.
    const base = slashCommandBody({ text: '', userId: 'U1' });
    const padded = `${base}&pad=${'p'.repeat(SLACK_BODY_LIMIT_BYTES - base.length - 5)}`;
    expect(padded.length).toBe(SLACK_BODY_LIMIT_BYTES);
    expect((await postToSlackEvents(baseUrl, padded)).status).toBe(200);
    expect((await postToSlackEvents(baseUrl, `${padded}p`)).status).toBe(413);
    expect(commands).toEqual(['hello', '']);
  });

  it('checks for replays only after the signature and the shape are verified', async () => {
    const { baseUrl, guard, commands } = await start();
    const body = slashCommandBody({ text: 'once', userId: 'U1' });
    await postToSlackEvents(baseUrl, body, { signature: 'v0=00' });
    await postToSlackEvents(baseUrl, body, { signature: null });
    await postToSlackEvents(baseUrl, 'payload=null');
    expect(guard.seen).toEqual([]);
    const timestamp = Math.floor(Date.now() / 1000);
    expect((await postToSlackEvents(baseUrl, body, { timestamp })).status).toBe(200);
    expect((await postToSlackEvents(baseUrl, body, { timestamp })).status).toBe(409);
    expect(guard.seen).toHaveLength(1);
    expect(commands).toEqual(['once']);
  });

  it('refuses the request (503) when the replay check cannot be made', async () => {
    const { baseUrl, guard, commands } = await start();
    guard.failWith = new Error('redis down');
    const res = await postToSlackEvents(baseUrl, slashCommandBody({ text: 'help', userId: 'U1' }));
    expect(res.status).toBe(503);
    expect(commands).toEqual([]);
  });

  it('counts refusals by outcome in aws_access_slack_requests_total', async () => {
    const { baseUrl, metrics } = await start();
    await postToSlackEvents(baseUrl, 'payload=null');
    await postToSlackEvents(baseUrl, 'x', { signature: 'v0=00' });
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/aws_access_slack_requests_total\{outcome="malformed"\} 1/);
    expect(text).toMatch(/aws_access_slack_requests_total\{outcome="rejected"\} 1/);
  });

  it('answers a request target that is not a URL with 400, not 500', async () => {
    const { baseUrl } = await start();
    const socket = connect(Number(new URL(baseUrl).port), '127.0.0.1');
    socket.end('GET http://[::1 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    let reply = '';
    for await (const chunk of socket) reply += String(chunk);
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
  });

  it('refuses to serve /slack/events without the signing secret', () => {
    const receiver = new HTTPReceiver({ signingSecret: TEST_SIGNING_SECRET });
    expect(() =>
      createHttpServer({
        logger: createLogger({ level: 'silent' }),
        metrics: createMetrics(),
        slackListener: receiver.requestListener,
        checkReady: async () => undefined,
        clock: systemClock,
      }),
    ).toThrow(/slackSigningSecret/);
  });
});
