import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlackClient, slackClientOptions } from '../../../src/slack/slack-client.js';
import { createSlackFetch, slackFetch } from '../../../src/slack/slack-fetch.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';

interface Seen {
  method?: string;
  url?: string;
  headers: IncomingMessage['headers'];
  body: string;
  remotePort?: number;
}

describe('slackFetch, the keep-alive fetch of the Slack clients', () => {
  let server: Server;
  let origin: string;
  const seen: Seen[] = [];
  let fake: FakeSlack;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({
          method: req.method,
          url: req.url,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          remotePort: req.socket.remotePort,
        });
        if (req.url === '/limited') {
          res.writeHead(429, { 'retry-after': '7', 'content-type': 'application/json' });
          res.end('{"ok":false,"error":"ratelimited"}');
        } else if (req.url === '/empty') {
          res.writeHead(204);
          res.end();
        } else {
          res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] });
          res.end('{"ok":true}');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    fake = await startFakeSlack();
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await fake.stop();
  });

  it('posts the body and headers and answers with a standard Response', async () => {
    const res = await slackFetch(`${origin}/api/chat.postMessage`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: 'Bearer xoxb-x' },
      body: 'channel=C1&text=h%C3%A9',
    });
    expect(res.status).toBe(200);
    expect(res.ok).toBe(true);
    expect(res.url).toBe(`${origin}/api/chat.postMessage`);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('set-cookie')).toContain('a=1');
    expect(await res.json()).toEqual({ ok: true });
    const last = seen.at(-1)!;
    expect(last).toMatchObject({
      method: 'POST',
      url: '/api/chat.postMessage',
      body: 'channel=C1&text=h%C3%A9',
    });
    expect(last.headers['content-length']).toBe(String(Buffer.byteLength('channel=C1&text=h%C3%A9')));
    expect(last.headers.authorization).toBe('Bearer xoxb-x');
  });

  it('reuses the connection for the next call (keep-alive)', async () => {
    await (await slackFetch(`${origin}/a`, { method: 'POST', body: 'x=1' })).text();
    await (await slackFetch(`${origin}/b`, { method: 'POST', body: 'x=2' })).text();
    const [a, b] = seen.slice(-2);
    expect(a!.remotePort).toBe(b!.remotePort);
  });

  it('hands back a 429 with its Retry-After, and a 204 without a body', async () => {
    const limited = await slackFetch(`${origin}/limited`, { method: 'POST', body: '' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    const empty = await slackFetch(`${origin}/empty`, { method: 'POST', body: 'x' });
    expect(empty.status).toBe(204);
    expect(await empty.text()).toBe('');
  });

  it('leaves what it does not handle (a FormData body, an AbortSignal) to the global fetch', async () => {
    const form = new FormData();
    form.set('file', new Blob(['abc']), 'a.txt');
    const res = await slackFetch(`${origin}/upload`, { method: 'POST', body: form });
    expect(res.status).toBe(200);
    expect(seen.at(-1)!.headers['content-type']).toMatch(/^multipart\/form-data/);
    const aborted = new AbortController();
    aborted.abort();
    await expect(
      slackFetch(`${origin}/x`, { method: 'POST', body: 'x', signal: aborted.signal }),
    ).rejects.toThrow();
  });

  it('sends again on a fresh connection when a kept-alive one turns out closed, and only then', async () => {
    // Answers the first request of each connection; a second request on one is cut off unanswered,
    // as when a server closes an idle keep-alive connection just as the client reuses it.
    let received = 0;
    const flaky = createServer((req, res) => {
      received += 1;
      const count = ((req.socket as { served?: number }).served ?? 0) + 1;
      (req.socket as { served?: number }).served = count;
      req.resume();
      req.on('end', () => {
        if (count > 1) {
          req.socket.destroy();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}/api/x`;
    try {
      expect((await slackFetch(url, { method: 'POST', body: 'a' })).status).toBe(200);
      expect((await slackFetch(url, { method: 'POST', body: 'b' })).status).toBe(200);
      expect(received).toBe(3);
    } finally {
      flaky.closeAllConnections();
      await new Promise((resolve) => flaky.close(resolve));
    }
    // A fresh connection that is cut off is an error, not sent again.
    const cut = createServer((req) => req.socket.destroy());
    await new Promise<void>((resolve) => cut.listen(0, '127.0.0.1', resolve));
    try {
      await expect(
        slackFetch(`http://127.0.0.1:${(cut.address() as AddressInfo).port}/x`, {
          method: 'POST',
          body: 'x',
        }),
      ).rejects.toThrow();
    } finally {
      await new Promise((resolve) => cut.close(resolve));
    }
  });

  it('gives up on a server that does not answer', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/api/x`;
      await expect(createSlackFetch(200)(url, { method: 'POST', body: 'x' })).rejects.toThrow(
        /did not answer within 200 ms/,
      );
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('rejects when the server is not there', async () => {
    await expect(slackFetch('http://127.0.0.1:1/api/x', { method: 'POST', body: 'x' })).rejects.toThrow();
  });

  it('is the fetch of both Slack client uses, and a Web API call goes through it', async () => {
    expect(slackClientOptions({}, 'requests').fetch).toBe(slackFetch);
    expect(slackClientOptions({}, 'jobs').fetch).toBe(slackFetch);
    fake.addUser({ id: 'U0FETCH', email: 'fetch@example.com' });
    const client = createSlackClient({ slackBotToken: 'xoxb-test', slackApiUrl: fake.apiUrl }, 'requests');
    const res = await client.users.info({ user: 'U0FETCH' });
    expect(res.user?.profile?.email).toBe('fetch@example.com');
  });
});
