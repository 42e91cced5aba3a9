/**
 * The keyed audit chain and its S3 anchors against the three attacks of someone who can write
 * Redis (but holds neither AWS_ACCESS_HMAC_KEY nor a way round S3 Object Lock): rewrite an entry
 * and re-chain, cut the tail and move the head back, delete the stream and the head. Real
 * redis-server, the real AWS SDK over HTTP to moto's S3, and the real CLI in-process.
 */
import { systemClock } from '../../../src/clock.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createAnchorS3Client,
  S3AuditAnchors,
  type AuditAnchorSettings,
} from '../../../src/aws/audit-anchor.js';
import type { CliIo } from '../../../src/cli/io.js';
import { runCli } from '../../../src/cli/run-cli.js';
import type { EnvOptions } from '../../../src/config/env.js';
import { hmacKeysFrom } from '../../../src/config/hmac-keys.js';
import { anchorAuditHead } from '../../../src/jobs/audit-anchor.js';
import { auditKeys, legacyChainHash, RedisAuditLog } from '../../../src/store/audit-log.js';
import {
  awsEndpointUrl,
  redisConfigYaml,
  redisUrl,
  resetMoto,
  TEST_CONFIG_FILE,
  testRedis,
  uniquePrefix,
} from '../../support/services.js';

const HMAC_KEY = 'audit-chain-test-key-0123456789abcdef-0123';
const BUCKET = 'aab-audit-anchors';
const keys = hmacKeysFrom(HMAC_KEY);

let redis: Redis;
let cleanup: () => Promise<void>;
let prefix: string;
let s3: S3Client;
const settings: AuditAnchorSettings = {
  bucket: BUCKET,
  prefix: 'anchors/',
  retention: 86400,
  mode: 'COMPLIANCE',
};

beforeEach(async () => {
  await resetMoto();
  prefix = uniquePrefix('audit');
  ({ redis, cleanup } = await testRedis(prefix));
  s3 = createAnchorS3Client({ region: 'us-east-1', endpoint: awsEndpointUrl() });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET, ObjectLockEnabledForBucket: true }));
});

afterEach(async () => {
  s3.destroy();
  await cleanup();
});

function env(overrides: Partial<EnvOptions> = {}): EnvOptions {
  return {
    redisUrl: redisUrl(),
    awsRegion: 'us-east-1',
    awsEndpointUrl: awsEndpointUrl(),
    configPath: 'unused',
    port: 0,
    logLevel: 'silent',
    hmacKey: HMAC_KEY,
    ...overrides,
  };
}

/** The test config as a file with this test's prefix and (unless `anchor` is false) anchoring on. */
function configFile(anchor = true): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'aab-audit-chain-'));
  const file = path.join(dir, 'config.yaml');
  const audit = anchor
    ? `audit:\n  anchor:\n    bucket: ${BUCKET}\n    prefix: ${settings.prefix}\n    interval: 1m\n    retention: 1d\n`
    : '';
  writeFileSync(file, `${readFileSync(TEST_CONFIG_FILE, 'utf8')}\n${redisConfigYaml(prefix)}${audit}`);
  return file;
}

async function verifyCli(
  options: { anchor?: boolean; env?: Partial<EnvOptions>; args?: string[] } = {},
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    env: env(options.env),
    clock: systemClock,
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  };
  const code = await runCli(
    ['audit', 'verify', '--config', configFile(options.anchor ?? true), ...(options.args ?? [])],
    io,
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function keyedLog(): RedisAuditLog {
  return new RedisAuditLog(redis, prefix, { chainKey: keys.auditChain });
}

async function appendEvents(log: RedisAuditLog, count: number, from = 0): Promise<void> {
  for (let i = from; i < from + count; i++) {
    await log.record({
      at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      actor: i % 2 ? 'U0APPROVER1' : 'U0REQUESTER',
      action: i % 2 ? 'approve' : 'request',
      outcome: i === 1 ? 'refused' : 'ok',
      requestId: `r-${i}`,
    });
  }
}

function anchors(): S3AuditAnchors {
  return new S3AuditAnchors(s3, settings, keys.auditChain);
}

async function anchorNow(): Promise<void> {
  const run = await anchorAuditHead({
    clock: systemClock,
    redis,
    redisPrefix: prefix,
    chainKey: keys.auditChain,
    anchors: anchors(),
  });
  expect(run.anchored).toBe(true);
}

type Row = [string, string[]];

function field(fields: string[], name: string): string | undefined {
  const i = fields.indexOf(name);
  return i >= 0 ? fields[i + 1] : undefined;
}

/**
 * The attacker's re-chain: the entries from `from` on rewritten by `edit` and re-hashed with the
 * only algorithm they can compute (unkeyed sha256), ids kept, head moved to the new last hash;
 * the entries before `from` stay as they were.
 */
async function rechain(
  from: number,
  edit: (fields: string[], id: string) => string[],
  options: { stripAlg?: boolean } = {},
): Promise<void> {
  const { stream, head } = auditKeys(prefix);
  const rows = (await redis.xrange(stream, '-', '+')) as Row[];
  await redis.del(stream);
  let prev = '';
  for (const [index, [id, original]] of rows.entries()) {
    if (index < from) {
      await redis.xadd(stream, id, ...original);
      prev = field(original, 'hash')!;
      continue;
    }
    const fields = edit(original, id);
    const event = field(fields, 'event')!;
    const hash = legacyChainHash(prev, event);
    const alg = field(fields, 'alg');
    const extra = alg && !options.stripAlg ? ['alg', alg] : [];
    await redis.xadd(stream, id, 'event', event, 'prev', prev, 'hash', hash, ...extra);
    prev = hash;
  }
  await redis.set(head, prev);
}

/** The refused click (entry 1) turned into an approval. */
function refusedToOk(fields: string[], id: string, target: string): string[] {
  return id === target ? fields.map((v) => v.replace('"refused"', '"ok"')) : fields;
}

describe('the keyed audit chain with S3 anchors', () => {
  it('verifies an untouched keyed chain and names the anchor it matched', async () => {
    await appendEvents(keyedLog(), 5);
    await anchorNow();
    const result = await verifyCli();
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out).toContain('audit log intact: 5 entries');
    expect(result.out).toMatch(/matches the newest anchor: entry \d+-\d+ \(5 entries\)/);
    const rows = (await redis.xrange(auditKeys(prefix).stream, '-', '+')) as Row[];
    expect(rows.every(([, f]) => field(f, 'alg') === 'hmac-sha256')).toBe(true);
    // The key itself is nowhere in Redis.
    const dump = JSON.stringify(rows) + (await redis.get(auditKeys(prefix).head));
    expect(dump).not.toContain(keys.auditChain.toString('hex'));
    expect(dump).not.toContain(HMAC_KEY);
  });

  it('attack (a): an entry rewritten and the chain re-chained fails verify (keyed hash), anchor or not', async () => {
    await appendEvents(keyedLog(), 5);
    await anchorNow();
    const rows = (await redis.xrange(auditKeys(prefix).stream, '-', '+')) as Row[];
    const target = rows[1]![0];
    // The refused click turned into an approval, every hash after it recomputed.
    await rechain(1, (f, id) => refusedToOk(f, id, target));
    const withAnchor = await verifyCli();
    expect(withAnchor.code).toBe(1);
    expect(withAnchor.err).toContain(`audit log broken at entry ${target}`);
    expect(withAnchor.err).toContain('keyed hash');
    const withoutAnchor = await verifyCli({ anchor: false });
    expect(withoutAnchor.code).toBe(1);
    expect(withoutAnchor.err).toContain(`entry ${target}`);
  });

  it('attack (a), downgraded: re-chained as unkeyed legacy entries (alg fields stripped) fails verify', async () => {
    await appendEvents(keyedLog(), 5);
    await anchorNow();
    const target = ((await redis.xrange(auditKeys(prefix).stream, '-', '+')) as Row[])[1]![0];
    // Stripped from every entry, so the whole log reads as one legacy chain.
    await rechain(0, (f, id) => refusedToOk(f, id, target), { stripAlg: true });
    const withAnchor = await verifyCli();
    expect(withAnchor.code).toBe(1);
    expect(withAnchor.err).toMatch(/hash differs from the anchor of .* \(the log was rewritten\)/);
    // Even with anchoring off a log of unkeyed entries only is not accepted.
    const withoutAnchor = await verifyCli({ anchor: false });
    expect(withoutAnchor.code).toBe(1);
    expect(withoutAnchor.err).toContain('entries are unkeyed: nothing vouches for them');
  });

  it('attack (b): entries cut from the end and the head moved back fail verify against the anchor', async () => {
    const log = keyedLog();
    await appendEvents(log, 6);
    await anchorNow();
    const { stream, head } = auditKeys(prefix);
    const rows = (await redis.xrange(stream, '-', '+')) as Row[];
    // Cut the last two entries; the chain that is left is intact and the head matches it.
    await redis.xdel(stream, rows[4]![0], rows[5]![0]);
    await redis.set(head, field(rows[3]![1], 'hash')!);
    expect((await keyedLog().verify()).ok).toBe(true);
    const result = await verifyCli();
    expect(result.code).toBe(1);
    expect(result.err).toContain(`audit log broken at entry ${rows[5]![0]}`);
    expect(result.err).toContain('entries were cut from the end');
    expect(result.err).toContain('recorded 6');
  });

  it('attack (b), then new events: a cut tail followed by fresh appends still fails verify', async () => {
    const log = keyedLog();
    await appendEvents(log, 6);
    await anchorNow();
    const { stream, head } = auditKeys(prefix);
    const rows = (await redis.xrange(stream, '-', '+')) as Row[];
    await redis.xdel(stream, rows[4]![0], rows[5]![0]);
    await redis.set(head, field(rows[3]![1], 'hash')!);
    // The service keeps writing (keyed, valid) entries after the cut.
    await appendEvents(keyedLog(), 3, 10);
    const result = await verifyCli();
    expect(result.code).toBe(1);
    expect(result.err).toContain(`entry ${rows[5]![0]}`);
    expect(result.err).toContain('the anchored entry is missing from the stream');
  });

  it('attack (c): the stream and the head deleted fail verify against the anchor', async () => {
    await appendEvents(keyedLog(), 4);
    await anchorNow();
    const { stream, head } = auditKeys(prefix);
    await redis.del(stream, head);
    const result = await verifyCli();
    expect(result.code).toBe(1);
    expect(result.err).toContain('the audit stream is empty');
    expect(result.err).toContain('recorded 4 entries');
    expect(result.err).toContain('(the stream was deleted)');
  });

  it('without audit.anchor, verify passes an intact chain and says anchoring is off', async () => {
    await appendEvents(keyedLog(), 2);
    const result = await verifyCli({ anchor: false });
    expect(result.code).toBe(0);
    expect(result.out).toContain('anchoring is off');
  });

  it('verify and export without AWS_ACCESS_HMAC_KEY exit 1 with the missing-setting message', async () => {
    for (const args of [['verify'], ['export', '--since', '1h']]) {
      const err: string[] = [];
      const io: CliIo = {
        env: env({ hmacKey: undefined }),
        clock: systemClock,
        out: () => undefined,
        err: (l) => err.push(l),
      };
      const code = await runCli(['audit', ...args, '--config', configFile()], io);
      expect(code).toBe(1);
      expect(err.join('\n')).toMatch(/^AWS_ACCESS_HMAC_KEY is not set: /);
    }
  });

  it('verify with another key fails on the first keyed entry', async () => {
    await appendEvents(keyedLog(), 2);
    const first = ((await redis.xrange(auditKeys(prefix).stream, '-', '+')) as Row[])[0]![0];
    const result = await verifyCli({
      anchor: false,
      env: { hmacKey: 'another-key-0123456789abcdef-0123456789' },
    });
    expect(result.code).toBe(1);
    expect(result.err).toContain(`entry ${first}: content does not match its keyed hash`);
  });

  it('anchors are written under Object Lock, cannot be deleted, and an unchanged head writes none', async () => {
    await appendEvents(keyedLog(), 3);
    await anchorNow();
    const again = await anchorAuditHead({
      clock: systemClock,
      redis,
      redisPrefix: prefix,
      chainKey: keys.auditChain,
      anchors: anchors(),
    });
    expect(again).toEqual({ anchored: false, reason: 'unchanged' });
    const versions = await s3.send(
      new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: settings.prefix }),
    );
    expect(versions.Versions).toHaveLength(1);
    const { Key, VersionId } = versions.Versions![0]!;
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
    expect(got.ObjectLockMode).toBe('COMPLIANCE');
    expect(got.ObjectLockRetainUntilDate!.getTime()).toBeGreaterThan(Date.now() + 86_000_000);
    const body = JSON.parse(await got.Body!.transformToString()) as Record<string, unknown>;
    expect(body).toMatchObject({ v: 1, entries: 3 });
    expect(body.mac).toMatch(/^[0-9a-f]{64}$/);
    await expect(s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key, VersionId }))).rejects.toThrow();
  });

  it('an anchor object the bot did not write (MAC does not verify) is a finding', async () => {
    await appendEvents(keyedLog(), 3);
    await anchorNow();
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `${settings.prefix}0000000000000-1.json`,
        Body: JSON.stringify({
          v: 1,
          headHash: 'f'.repeat(64),
          lastEntryId: '1-0',
          entries: 1,
          at: new Date().toISOString(),
          mac: '0'.repeat(64),
        }),
      }),
    );
    const result = await verifyCli();
    expect(result.code).toBe(1);
    expect(result.err).toContain('has a MAC that does not verify');
    // The real anchor is still the one checked.
    expect(result.out).toContain('matches the newest anchor');
  });

  it('the anchor job refuses to anchor a chain that no longer verifies since the last anchor', async () => {
    await appendEvents(keyedLog(), 3);
    await anchorNow();
    await appendEvents(keyedLog(), 2, 3);
    await rechain(4, (f) => f.map((v) => v.replace('U0', 'U9')));
    await expect(
      anchorAuditHead({
        clock: systemClock,
        redis,
        redisPrefix: prefix,
        chainKey: keys.auditChain,
        anchors: anchors(),
      }),
    ).rejects.toThrow(/not anchoring: the audit log does not verify/);
    const versions = await s3.send(
      new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: settings.prefix }),
    );
    expect(versions.Versions).toHaveLength(1);
  });

  it('upgrade: legacy unkeyed entries pass only as a prefix that a keyed entry follows', async () => {
    await appendEvents(new RedisAuditLog(redis, prefix), 3);
    // Right after the upgrade, before any new event: nothing vouches for the old entries.
    const before = await verifyCli({ anchor: false });
    expect(before.code).toBe(1);
    expect(before.err).toContain('all 3 entries are unkeyed');
    await appendEvents(keyedLog(), 2, 3);
    // Nothing but the operator's word (or an anchor) vouches for entries written without the key.
    const unvouched = await verifyCli({ anchor: false });
    expect(unvouched.code).toBe(1);
    expect(unvouched.err).toContain('the first 3 of 5 entries are unkeyed, and no anchor vouches for them');
    const after = await verifyCli({ anchor: false, args: ['--accept-unkeyed-prefix'] });
    expect(after.code).toBe(0);
    expect(after.out).toContain('intact: 5 entries; the first 3 are unkeyed entries from before the upgrade');
    // An unkeyed entry after keyed ones is a downgrade, not history.
    await appendEvents(new RedisAuditLog(redis, prefix), 1, 5);
    const appended = (
      (await redis.xrevrange(auditKeys(prefix).stream, '+', '-', 'COUNT', 1)) as Row[]
    )[0]![0];
    const downgraded = await verifyCli({ anchor: false });
    expect(downgraded.code).toBe(1);
    expect(downgraded.err).toContain(`entry ${appended}: is an unkeyed entry after keyed ones`);
  });
});
