/**
 * Hostile input against the real receiver: the service from startTestApp (our HTTP server, the
 * /slack/events gate, Bolt's HTTPReceiver and every listener) on real Redis and the fake Slack,
 * fed 10,000 requests generated with fast-check (fixed seed): slash commands, block_actions,
 * view_submission, block_suggestion and Events API bodies, well-formed and malformed, wrong
 * types, oversized, signed and unsigned.
 *
 * Phase 1 (unsigned, badly signed, stale, oversized, malformed): every one is refused with the
 * expected 4xx and nothing changes: no Redis key under the prefix, no fake Slack call, no grant.
 * Phase 2 (correctly signed, well-formed, random content): every one is answered 2xx/4xx.
 * Throughout: every answer within 3 s, no unhandled rejection or uncaught exception, and the
 * process still serves afterwards.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseQueryString } from 'node:querystring';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionId } from '../../src/slack/views/request-message.js';
import {
  DENY_MODAL_ID,
  EXTEND_MODAL_ID,
  FieldBlock,
  REQUEST_MODAL_ID,
} from '../../src/slack/views/request-modal.js';
import { SNOOZE_ACTION_ID } from '../../src/slack/hygiene/messages.js';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { startFakeSlack } from '../support/fake-slack.js';
import { freePort } from '../support/local-servers.js';
import { awsEndpointUrl, redisUrl, TEST_CONFIG_FILE, testRedis, uniquePrefix } from '../support/services.js';
import { rawPost, type RawAnswer } from '../support/raw-http.js';
import {
  APPROVER1,
  APPROVER2,
  approverMessage,
  command,
  GUEST,
  REQUESTER,
  seedPeople,
  STRANGER,
} from '../support/slack-flow.js';
import {
  blockActionsBody,
  blockSuggestionBody,
  sign,
  slashCommandBody,
  TEST_SIGNING_SECRET,
  viewSubmissionBody,
} from '../support/slack-request.js';

const SEED = 20261130;
const ANSWER_BUDGET_MS = 3000;
const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

/** How a generated request is signed; everything but `signed` must be refused with 401. */
type Signing =
  | 'signed'
  | 'unsigned'
  | 'wrong-secret'
  | 'garbage-signature'
  | 'stale'
  | 'future'
  | 'non-numeric-timestamp'
  | 'signature-twice';
const BAD_SIGNINGS: Signing[] = [
  'unsigned',
  'wrong-secret',
  'garbage-signature',
  'stale',
  'future',
  'non-numeric-timestamp',
  'signature-twice',
];

interface Case {
  label: string;
  body: Buffer;
  contentType?: string;
  signing: Signing;
  /** Send without Content-Length (chunked). */
  chunked?: boolean;
  /** The status class the answer must have in phase 1. */
  expect?: 401 | 413 | '400/415';
}

// ---------- generators ----------

const USERS = [REQUESTER, APPROVER1, APPROVER2, STRANGER, GUEST, 'U0NOBODY'];
/** Filled in beforeAll (a real pending request first); read when values are generated. */
const requestIds: string[] = ['r-0000000000', 'r-0000000000', 'r-ffffffffff'];
const requestId = fc.constantFrom(0, 1, 2).map((i) => requestIds[i]!);

const shortText = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
const userId = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...USERS) },
  fc.string({ minLength: 1, maxLength: 20 }),
);
const commandText = fc.oneof(
  fc.constantFrom(
    '',
    'help',
    'list',
    'templates',
    'sbx readonly 1h INC-1 hostile input',
    'prod readonly 30m INC-2 check',
    'sbx admin-breakglass 1h INC-3 now',
    'revoke r-0000000000',
    'extend r-0000000000 1h',
    'status r-0000000000',
    'cancel r-0000000000',
  ),
  shortText,
  fc
    .tuple(
      fc.constantFrom('sbx', 'prod', '123456789012', ''),
      fc.constantFrom('readonly', 'developer', 'x'),
      shortText,
    )
    .map(([a, t, r]) => `${a} ${t} 1h ${r}`),
);
const actionId = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(...Object.values(ActionId), SNOOZE_ACTION_ID, 'template', 'account'),
  },
  fc.string({ minLength: 1, maxLength: 30 }),
);
const actionValue = fc.option(fc.oneof(requestId, fc.string({ maxLength: 40 })), { nil: undefined });
const callbackId = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(REQUEST_MODAL_ID, DENY_MODAL_ID, EXTEND_MODAL_ID) },
  fc.string({ minLength: 0, maxLength: 30 }),
);
const stateValue = fc.record(
  {
    type: fc.constantFrom('static_select', 'plain_text_input', 'external_select', 'radio_buttons'),
    value: fc.oneof(fc.string({ maxLength: 50 }), fc.constantFrom('3600', 'sbx', 'readonly')),
    selected_option: fc.record({
      value: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('3600', 'sbx')),
    }),
  },
  { requiredKeys: ['type'] },
);
const stateValues = fc.oneof(
  fc.dictionary(
    fc.string({ maxLength: 12 }),
    fc.dictionary(fc.string({ maxLength: 12 }), stateValue, { maxKeys: 2 }),
    {
      maxKeys: 3,
    },
  ),
  fc.record({
    [FieldBlock.account]: fc.record({ account: stateValue }),
    [FieldBlock.template]: fc.record({ template: stateValue }),
    [FieldBlock.duration]: fc.record({ duration: stateValue }),
    [FieldBlock.reason]: fc.record({ reason: stateValue }),
  }),
);

/** Well-formed Slack requests (the shapes Slack sends), with random content. */
const wellFormed: fc.Arbitrary<{ label: string; body: string; contentType: string }> = fc.oneof(
  fc
    .record({ text: commandText, userId, channelId: fc.constantFrom('C0GENERAL', 'D0DM', 'C0X') })
    .map((c) => ({ label: 'command', body: slashCommandBody(c), contentType: FORM })),
  fc
    .record({
      userId,
      actionId,
      value: actionValue,
      where: fc.constantFrom('message', 'view', 'none'),
      ts: fc.constantFrom('1700000000.000100', '1.2'),
    })
    .map(({ where, ts, ...a }) => ({
      label: 'block_actions',
      body: blockActionsBody({
        ...a,
        message: where === 'message' ? { channel: 'C0APPROVALS', ts } : undefined,
        view: where === 'view' ? { id: 'V0HOME', type: 'home' } : undefined,
      }),
      contentType: FORM,
    })),
  fc
    .record({ userId, callbackId, values: stateValues, privateMetadata: fc.oneof(shortText, requestId) })
    .map((v) => ({ label: 'view_submission', body: viewSubmissionBody(v), contentType: FORM })),
  fc
    .record({
      userId,
      actionId: fc.oneof(fc.constant('account'), fc.string({ minLength: 1, maxLength: 20 })),
      blockId: fc.string({ maxLength: 20 }),
      value: shortText,
    })
    .map((s) => ({ label: 'block_suggestion', body: blockSuggestionBody(s), contentType: FORM })),
  fc.record({ user: userId, tab: fc.constantFrom('home', 'messages', '') }).map(({ user, tab }) => ({
    label: 'app_home_opened',
    body: JSON.stringify({
      token: 'legacy-verification-token',
      team_id: 'T0TEST',
      api_app_id: 'A0TEST',
      type: 'event_callback',
      event: { type: 'app_home_opened', user, channel: 'D0HOME', tab, event_ts: '1.2' },
      event_id: 'Ev0',
      event_time: 1,
    }),
    contentType: JSON_TYPE,
  })),
  fc.string({ minLength: 1, maxLength: 40 }).map((challenge) => ({
    label: 'url_verification',
    body: JSON.stringify({ type: 'url_verification', token: 't', challenge }),
    contentType: JSON_TYPE,
  })),
);

const wrongType = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.boolean(),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.constant({}),
);

/** Signed or not, these are not something Bolt can dispatch: the gate must answer 400/415. */
const malformed: fc.Arbitrary<{ label: string; body: string; contentType?: string }> = fc.oneof(
  // payload whose JSON is not an object (payload=null was the process killer)
  fc
    .oneof(
      fc.constant(null),
      fc.array(fc.jsonValue(), { maxLength: 3 }),
      fc.string(),
      fc.integer(),
      fc.boolean(),
    )
    .map((v) => ({
      label: 'payload-not-object',
      body: `payload=${encodeURIComponent(JSON.stringify(v))}`,
      contentType: FORM,
    })),
  // payload that is not JSON at all
  fc.string({ maxLength: 60 }).map((s) => ({
    label: 'payload-not-json',
    body: `payload=${encodeURIComponent(`{"${s}`)}`,
    contentType: FORM,
  })),
  // an interaction with one required field of the wrong type
  fc
    .tuple(
      wellFormed.filter((w) => w.body.startsWith('payload=')),
      fc.constantFrom('type', 'user', 'actions', 'view', 'action_id'),
      wrongType,
    )
    .map(([w, key, value]) => {
      const payload = JSON.parse(String(parseQueryString(w.body).payload)) as Record<string, unknown>;
      const required: Record<string, string[]> = {
        block_actions: ['type', 'user', 'actions'],
        view_submission: ['type', 'user', 'view'],
        block_suggestion: ['type', 'user', 'action_id'],
      };
      const keys = required[String(payload.type)]!;
      const target = keys.includes(key) ? key : keys[key.length % keys.length]!;
      payload[target] = target === 'actions' && Array.isArray(value) && value.length === 0 ? 'none' : value;
      if (target === 'user' && value !== null && typeof value === 'object' && !Array.isArray(value))
        delete payload.user;
      return {
        label: `wrong-type-${w.label}.${target}`,
        body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
        contentType: FORM,
      };
    }),
  // form bodies with neither a command nor a payload, or a repeated field
  fc
    .dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 20 }), { maxKeys: 6 })
    .map((d) => new URLSearchParams(d).toString())
    .filter((b) => {
      const keys = Object.keys(parseQueryString(b));
      return !keys.includes('command') && !keys.includes('payload') && !keys.includes('ssl_check');
    })
    .map((body) => ({ label: 'form-without-command', body, contentType: FORM })),
  wellFormed
    .filter((w) => w.label === 'command')
    .chain((w) =>
      fc.constantFrom('user_id', 'text', 'command').map((k) => ({
        label: `command-repeated-${k}`,
        body: `${w.body}&${k}=again`,
        contentType: FORM,
      })),
    ),
  wellFormed
    .filter((w) => w.label === 'command')
    .chain((w) =>
      fc.constantFrom('user_id', 'command', 'team_id').map((k) => {
        const form = new URLSearchParams(w.body);
        form.delete(k);
        return { label: `command-without-${k}`, body: form.toString(), contentType: FORM };
      }),
    ),
  // Events API bodies that are not one of the known envelopes
  fc
    .jsonValue()
    .filter(
      (v) =>
        !(
          v !== null &&
          typeof v === 'object' &&
          !Array.isArray(v) &&
          ['url_verification', 'event_callback', 'app_rate_limited'].includes(
            String((v as { type?: unknown }).type),
          )
        ),
    )
    .map((v) => ({ label: 'json-unknown', body: JSON.stringify(v) ?? 'null', contentType: JSON_TYPE })),
  fc.string({ maxLength: 80 }).map((s) => ({ label: 'json-broken', body: `{${s}`, contentType: JSON_TYPE })),
  // wrong or missing content type
  fc
    .tuple(
      wellFormed,
      fc.constantFrom('text/plain', 'application/xml', 'multipart/form-data; boundary=x', undefined),
    )
    .map(([w, contentType]) => ({
      label: `content-type-${contentType ?? 'none'}`,
      body: w.body,
      contentType,
    })),
);

function headersFor(c: Case, body: Buffer): Record<string, string | string[]> {
  const now = Math.floor(Date.now() / 1000);
  const headers: Record<string, string | string[]> = {};
  if (c.contentType) headers['content-type'] = c.contentType;
  if (!c.chunked) headers['content-length'] = String(body.length);
  const text = body.toString('utf8');
  const stamp = (t: number, secret = TEST_SIGNING_SECRET) => {
    headers['x-slack-request-timestamp'] = String(t);
    headers['x-slack-signature'] = sign(text, secret, t);
  };
  switch (c.signing) {
    case 'signed':
      stamp(now);
      break;
    case 'unsigned':
      break;
    case 'wrong-secret':
      stamp(now, 'not-the-signing-secret');
      break;
    case 'garbage-signature':
      stamp(now);
      headers['x-slack-signature'] = `v0=${'0'.repeat(64)}`;
      break;
    case 'stale':
      stamp(now - 6 * 60);
      break;
    case 'future':
      stamp(now + 6 * 60);
      break;
    case 'non-numeric-timestamp':
      stamp(now);
      headers['x-slack-request-timestamp'] = `${now}abc`;
      break;
    case 'signature-twice': {
      stamp(now);
      const s = headers['x-slack-signature'] as string;
      headers['x-slack-signature'] = [s, s];
      break;
    }
  }
  return headers;
}

const badSigning = fc.constantFrom(...BAD_SIGNINGS);

function phaseOneCases(): Case[] {
  const sample = <T>(arb: fc.Arbitrary<T>, n: number, offset: number) =>
    fc.sample(arb, { seed: SEED + offset, numRuns: n });
  const unsignedWellFormed = sample(fc.tuple(wellFormed, badSigning), 3000, 1).map(([w, signing]): Case => ({
    ...w,
    body: Buffer.from(w.body),
    signing,
    expect: 401,
  }));
  const unsignedJunk = sample(
    fc.tuple(
      fc.oneof(
        malformed.map((m) => Buffer.from(m.body)),
        fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      ),
      fc.constantFrom(FORM, JSON_TYPE, 'text/plain', undefined),
      badSigning,
    ),
    1500,
    2,
  ).map(([body, contentType, signing]): Case => ({ label: 'junk', body, contentType, signing, expect: 401 }));
  const signedMalformed = sample(malformed, 2460, 3).map((m): Case => ({
    ...m,
    body: Buffer.from(m.body),
    signing: 'signed',
    expect: '400/415',
  }));
  const oversized = sample(
    fc.record({
      size: fc.integer({ min: 256 * 1024 + 1, max: 1024 * 1024 }),
      // (a future timestamp is refused from the headers alone, 401, before the size is looked at)
      signing: fc.constantFrom<Signing>('signed', ...BAD_SIGNINGS.filter((s) => s !== 'future')),
      chunked: fc.boolean(),
    }),
    40,
    4,
  ).map(({ size, signing, chunked }): Case => ({
    label: 'oversized',
    body: Buffer.from(`payload=${'a'.repeat(size - 8)}`),
    contentType: FORM,
    signing,
    chunked,
    expect: 413,
  }));
  return [...unsignedWellFormed, ...unsignedJunk, ...signedMalformed, ...oversized];
}

function phaseTwoCases(): Case[] {
  return fc
    .sample(wellFormed, { seed: SEED + 5, numRuns: 3000 })
    .map((w): Case => ({ ...w, body: Buffer.from(w.body), signing: 'signed' }));
}

// ---------- driving ----------

interface Result {
  c: Case;
  answer?: RawAnswer;
  error?: string;
}

async function runAll(baseUrl: string, cases: Case[], concurrency: number, agent: Agent): Promise<Result[]> {
  const results: Result[] = new Array<Result>(cases.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= cases.length) return;
      const c = cases[i]!;
      try {
        const chunks =
          c.chunked && c.body.length > 1
            ? [c.body.subarray(0, c.body.length >> 1), c.body.subarray(c.body.length >> 1)]
            : [c.body];
        const answer = await rawPost(baseUrl, {
          headers: headersFor(c, c.body) as Record<string, string>,
          chunks,
          agent,
          timeoutMs: ANSWER_BUDGET_MS + 2000,
        });
        results[i] = { c, answer };
      } catch (error) {
        results[i] = { c, error: (error as Error).message };
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

function statusOk(r: Result): boolean {
  const status = r.answer?.status ?? 0;
  switch (r.c.expect) {
    case 401:
      return status === 401;
    case 413:
      return status === 413;
    case '400/415':
      return status === 400 || status === 415;
    default:
      return (status >= 200 && status < 300) || (status >= 400 && status < 500);
  }
}

function summarize(results: Result[]) {
  const byStatus: Record<string, number> = {};
  for (const r of results) {
    const key = r.answer ? String(r.answer.status) : 'error';
    byStatus[key] = (byStatus[key] ?? 0) + 1;
  }
  const slowest = Math.max(0, ...results.map((r) => r.answer?.elapsedMs ?? Infinity));
  const failures = results
    .filter((r) => !r.answer || !statusOk(r) || r.answer.elapsedMs > ANSWER_BUDGET_MS)
    .slice(0, 10)
    .map((r) => ({
      label: r.c.label,
      signing: r.c.signing,
      expect: r.c.expect,
      status: r.answer?.status,
      ms: Math.round(r.answer?.elapsedMs ?? -1),
      error: r.error,
      body: r.c.body.subarray(0, 200).toString('utf8'),
    }));
  return { byStatus, slowestMs: Math.round(slowest), failures };
}

describe('hostile input on POST /slack/events (real receiver, 10,000 generated requests)', () => {
  let app: TestApp;
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const rejections: unknown[] = [];
  const exceptions: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  const onException = (error: unknown) => exceptions.push(error);
  let total = 0;

  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
    app = await startTestApp();
    seedPeople(app.fake);
    // One real pending request (its signed command also makes the bot's one token check), so generated clicks can hit an existing id.
    await command(app, 'sbx readonly 1h INC-0 seed for the hostile input run');
    requestIds[0] = (await approverMessage(app.fake)).requestId;
    await app.fake.waitForCall('response_url', (c) => String(c.args.text).includes('sent to the approvers'));
    await new Promise((r) => setTimeout(r, 300));
  });

  afterAll(async () => {
    agent.destroy();
    await app?.stop();
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  });

  async function stateSnapshot() {
    const redis = app.service.redis;
    const keys = (await redis.keys(`${app.loaded.config.redis.prefix}:*`)).sort();
    const sizes = await Promise.all(
      keys.map(async (key) => {
        const type = await redis.type(key);
        const size =
          type === 'string'
            ? await redis.strlen(key)
            : type === 'hash'
              ? await redis.hlen(key)
              : type === 'list'
                ? await redis.llen(key)
                : type === 'set'
                  ? await redis.scard(key)
                  : type === 'zset'
                    ? await redis.zcard(key)
                    : type === 'stream'
                      ? await redis.xlen(key)
                      : -1;
        return `${key} ${type} ${size}`;
      }),
    );
    const metrics = await app.service.metrics.registry.getSingleMetricAsString(
      'aws_access_slack_requests_total',
    );
    const accepted = /outcome="accepted"\} (\d+)/.exec(metrics)?.[1] ?? '0';
    return { redis: sizes, slackCalls: app.fake.calls.length, grantCalls: app.grants.calls.length, accepted };
  }

  it('unsigned, badly signed, stale, oversized and malformed requests are refused (4xx) and change nothing', async () => {
    const cases = phaseOneCases();
    expect(cases.length).toBe(7000);
    const before = await stateSnapshot();
    const started = performance.now();
    const results = await runAll(app.baseUrl, cases, 16, agent);
    const seconds = (performance.now() - started) / 1000;
    total += results.length;
    await new Promise((r) => setTimeout(r, 500));
    const summary = summarize(results);
    console.info(`phase 1: ${results.length} requests in ${seconds.toFixed(1)} s`, JSON.stringify(summary));
    expect(summary.failures).toEqual([]);
    expect(summary.slowestMs).toBeLessThanOrEqual(ANSWER_BUDGET_MS);
    expect(await stateSnapshot()).toEqual(before);
    expect(rejections).toEqual([]);
    expect(exceptions).toEqual([]);
  });

  it('signed, well-formed requests with random content are all answered 2xx/4xx within 3 s', async () => {
    const cases = phaseTwoCases();
    const started = performance.now();
    const results = await runAll(app.baseUrl, cases, 8, agent);
    const seconds = (performance.now() - started) / 1000;
    total += results.length;
    const summary = summarize(results);
    console.info(`phase 2: ${results.length} requests in ${seconds.toFixed(1)} s`, JSON.stringify(summary));
    expect(summary.failures).toEqual([]);
    expect(summary.slowestMs).toBeLessThanOrEqual(ANSWER_BUDGET_MS);
    // They reached the listeners: most were answered 200, not refused by the gate.
    expect(summary.byStatus['200'] ?? 0).toBeGreaterThan(cases.length / 2);
  });

  it('no unhandled rejection or uncaught exception, and the process still serves', async () => {
    // Let the listeners' trailing work (Slack calls after ack) finish before the final count.
    await new Promise((r) => setTimeout(r, 1000));
    expect(total).toBeGreaterThanOrEqual(10_000);
    expect(rejections).toEqual([]);
    expect(exceptions).toEqual([]);
    expect((await fetch(`${app.baseUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${app.baseUrl}/readyz`)).status).toBe(200);
    const help = await app.post(slashCommandBody({ text: 'help', userId: REQUESTER }));
    expect(help.status).toBe(200);
  });
});

describe('hostile input against the aws-access-bot process (CLI start, role web)', () => {
  it('the process survives signed malformed, oversized and random requests without exiting or an unhandled rejection', async () => {
    const fake = await startFakeSlack();
    seedPeople(fake);
    const prefix = uniquePrefix('hostile');
    const dir = mkdtempSync(path.join(tmpdir(), 'aab-hostile-'));
    const config = path.join(dir, 'config.yaml');
    writeFileSync(
      config,
      `${readFileSync(TEST_CONFIG_FILE, 'utf8').replace('../../templates', path.resolve('templates'))}\nredis:\n  prefix: ${prefix}\n`,
    );
    const port = await freePort();
    const child = spawn(
      path.resolve('node_modules/.bin/tsx'),
      [path.resolve('src/cli.ts'), 'start', '--role', 'web'],
      {
        env: {
          ...process.env,
          SLACK_BOT_TOKEN: 'xoxb-test-hostile',
          SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
          SLACK_API_URL: fake.apiUrl,
          REDIS_URL: redisUrl(),
          AWS_ENDPOINT_URL: awsEndpointUrl(),
          AWS_ACCESS_CONFIG: config,
          PORT: String(port),
          LOG_LEVEL: 'error',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const baseUrl = `http://127.0.0.1:${port}`;
    try {
      const deadline = Date.now() + 30_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`the process exited with ${child.exitCode}: ${stdout}`);
        const ready = await fetch(`${baseUrl}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
        if (ready) break;
        if (Date.now() > deadline) throw new Error('the process did not become ready');
        await new Promise((r) => setTimeout(r, 100));
      }
      const cases: Case[] = [
        ...[
          'null',
          '[]',
          '"x"',
          '{"type":"block_actions"}',
          '{"type":"view_submission","user":{"id":"U1"}}',
        ].map((json): Case => ({
          label: 'known-killer',
          body: Buffer.from(`payload=${encodeURIComponent(json)}`),
          contentType: FORM,
          signing: 'signed',
        })),
        ...fc
          .sample(malformed, { seed: SEED + 6, numRuns: 1000 })
          .map((m): Case => ({ ...m, body: Buffer.from(m.body), signing: 'signed' })),
        ...fc
          .sample(wellFormed, { seed: SEED + 7, numRuns: 1000 })
          .map((w): Case => ({ ...w, body: Buffer.from(w.body), signing: 'signed' })),
        ...Array.from({ length: 10 }, (_, i): Case => ({
          label: 'oversized',
          body: Buffer.alloc(300 * 1024 + i, 'a'),
          contentType: FORM,
          signing: 'signed',
          chunked: i % 2 === 0,
        })),
      ];
      const results = await runAll(baseUrl, cases, 16, agent);
      const summary = summarize(results);
      console.info(`process run: ${results.length} requests`, JSON.stringify(summary));
      expect(summary.failures).toEqual([]);
      await new Promise((r) => setTimeout(r, 1000));
      expect(child.exitCode).toBeNull();
      expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
      // The process-level handlers would have logged these; nothing got that far.
      expect(stdout).not.toContain('unhandled promise rejection');
      expect(stdout).not.toContain('uncaught exception');
    } finally {
      agent.destroy();
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      await fake.stop();
      const { cleanup } = await testRedis(prefix);
      await cleanup();
    }
  }, 60_000);
});
