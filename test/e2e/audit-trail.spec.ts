import { systemClock } from '../../src/clock.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { createAnchorS3Client } from '../../src/aws/audit-anchor.js';
import { runCli } from '../../src/cli/run-cli.js';
import type { CliIo } from '../../src/cli/io.js';
import { startTestApp, testEnv, type TestApp } from '../support/app-harness.js';
import { awsEndpointUrl, resetMoto, TEST_CONFIG_FILE, testConfig, testRedis } from '../support/services.js';
import { APPROVER1, approverMessage, click, command, seedPeople, waitUntil } from '../support/slack-flow.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

/** The test config as a file with this test's Redis prefix (and more YAML), for the CLI. */
function configFileFor(prefix: string, extra = ''): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'aab-audit-'));
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, `${readFileSync(TEST_CONFIG_FILE, 'utf8')}\nredis:\n  prefix: ${prefix}\n${extra}`);
  return file;
}

async function cli(a: TestApp, args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    env: testEnv(a.fake),
    clock: systemClock,
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  };
  const code = await runCli(args, io);
  return { code, out, err };
}

describe('the audit trail', () => {
  it('records every transition and refusal; verify passes untouched and names the entry altered in Redis', async () => {
    app = await startTestApp({ loaded: testConfig() });
    const a = app;
    seedPeople(a.fake);
    const prefix = a.loaded.config.redis.prefix;
    await command(a, 'sbx readonly 1h checking alarms');
    const msg = await approverMessage(a.fake);
    await click(a, 'U0REQUESTER', 'request_approve', msg);
    await click(a, APPROVER1, 'request_approve', msg);
    await waitUntil(async () => (await a.service.requests.get(msg.requestId))?.state === 'active', 'active');

    const file = configFileFor(prefix);
    const exported = await cli(a, ['audit', 'export', '--since', '1h', '--config', file]);
    expect(exported.code).toBe(0);
    const events = exported.out.map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = events.map(
      (e) => `${e.action}:${e.outcome}:${e.stateBefore ?? ''}>${e.stateAfter ?? ''}`,
    );
    expect(summary).toEqual([
      'request:ok:>pending',
      'approve:refused:pending>pending',
      'approve:ok:pending>approved',
      'grant:ok:approved>active',
    ]);
    expect(events[1]).toMatchObject({ actor: 'U0REQUESTER', requestId: msg.requestId });
    expect(String(events[1]!.reason)).toContain('your own request');
    expect(JSON.stringify(events)).not.toMatch(/switchrole|cliProfile/);

    const ok = await cli(a, ['audit', 'verify', '--config', file]);
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.out.join('\n')).toContain('intact: 4 entries');

    // Rewrite the stream with the refused click turned into an approval, keeping every id.
    const { redis, cleanup } = await testRedis(`${prefix}-unused`);
    try {
      const key = `${prefix}:audit`;
      const rows = (await redis.xrange(key, '-', '+')) as Array<[string, string[]]>;
      const target = rows[1]![0];
      await redis.del(key);
      for (const [id, fields] of rows) {
        const copy = [...fields];
        if (id === target) {
          const i = copy.indexOf('event') + 1;
          copy[i] = copy[i]!.replace('"refused"', '"ok"');
        }
        await redis.xadd(key, id, ...copy);
      }
      const broken = await cli(a, ['audit', 'verify', '--config', file]);
      expect(broken.code).toBe(1);
      expect(broken.err.join('\n')).toContain(`entry ${target}`);
    } finally {
      await cleanup();
    }
  });

  it('the worker anchors the chain head in S3 on its schedule; verify checks the stream against it', async () => {
    await resetMoto();
    const s3 = createAnchorS3Client({ region: 'us-east-1', endpoint: awsEndpointUrl() });
    const bucket = 'aab-e2e-anchors';
    await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
    app = await startTestApp({
      loaded: testConfig((c) => {
        c.audit.anchor = { bucket, prefix: 'e2e/', interval: 1, retention: 3600, mode: 'GOVERNANCE' };
      }),
      role: 'all',
    });
    const a = app;
    seedPeople(a.fake);
    await command(a, 'sbx readonly 1h checking alarms');
    const listed = await waitUntil(async () => {
      const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'e2e/' }));
      return out.Contents?.length ? out.Contents : undefined;
    }, 'an anchor object');
    expect(listed[0]!.Key).toMatch(/^e2e\/\d{13}-1\.json$/);
    s3.destroy();
    const prefix = a.loaded.config.redis.prefix;
    const file = configFileFor(prefix, `audit:\n  anchor:\n    bucket: ${bucket}\n    prefix: e2e/\n`);
    const ok = await cli(a, ['audit', 'verify', '--config', file]);
    expect(ok.code).toBe(0);
    expect(ok.out.join('\n')).toMatch(/matches the newest anchor: entry \d+-\d+ \(1 entries\)/);
    // Deleting the stream and its head (someone with Redis access) no longer passes.
    await a.service.redis.del(`${prefix}:audit`, `${prefix}:audit:head`);
    const gone = await cli(a, ['audit', 'verify', '--config', file]);
    expect(gone.code).toBe(1);
    expect(gone.err.join('\n')).toContain('the audit stream is empty');
  });

  it('posts events to the audit channel in batches and waits out a 429', async () => {
    app = await startTestApp({
      loaded: testConfig((c) => {
        c.slack.auditBatchSeconds = 0.3;
      }),
      role: 'all',
    });
    const a = app;
    a.fake.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    for (let i = 0; i < 3; i++) {
      await a.service.audit.record({
        at: new Date().toISOString(),
        actor: 'U0ADMIN',
        action: `probe-${i}`,
        outcome: 'ok',
        reason: '<!channel> look',
      });
    }
    const posted = await a.fake.waitForCall(
      'chat.postMessage',
      (c) => c.args.channel === 'C0AUDIT' && c.response !== undefined,
      15_000,
    );
    const text = String(posted.args.text);
    expect(text).toContain('probe-0');
    expect(text).toContain('probe-2');
    expect(text).toContain('&lt;!channel&gt;');
    expect(text).not.toContain('<!channel>');
    const attempts = a.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0AUDIT');
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(900);
  });
  it('a later batch window waits out the same rate limit instead of posting into it', async () => {
    app = await startTestApp({
      loaded: testConfig((c) => {
        c.slack.auditBatchSeconds = 0.2;
      }),
      role: 'all',
    });
    const a = app;
    a.fake.failNext('chat.postMessage', { status: 429, retryAfter: 2 });
    const probe = (action: string) =>
      a.service.audit.record({ at: new Date().toISOString(), actor: 'U0ADMIN', action, outcome: 'ok' });
    await probe('before-the-limit');
    const first = await a.fake.waitForCall('chat.postMessage', (c) => c.args.channel === 'C0AUDIT');
    // A new event in a later window: its job must not post while Slack's Retry-After lasts.
    await probe('during-the-limit');
    const posted = await a.fake.waitForCall(
      'chat.postMessage',
      (c) => c.args.channel === 'C0AUDIT' && c.response !== undefined,
      15_000,
    );
    expect(posted.at - first.at).toBeGreaterThanOrEqual(1900);
    expect(String(posted.args.text)).toContain('before-the-limit');
  });
});
