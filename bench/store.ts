/**
 * 4. The Redis stores: request creation and lifecycle transitions (the Lua compare-and-set
 * scripts), 20-way contention on one request, audit appends with the hash chain from one process
 * and from four (as four replicas would), and `audit verify` over 10,000 entries — in-process
 * and through the real CLI (`tsx src/cli.ts audit verify`).
 */
import { systemClock } from '../src/clock.js';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { AccessRequest } from '../src/domain/access-request.js';
import type { AuditEvent } from '../src/domain/audit-event.js';
import { hmacKeysFrom } from '../src/config/hmac-keys.js';
import { RedisAuditLog } from '../src/store/audit-log.js';
import { TEST_HMAC_KEY } from '../test/support/slack-request.js';
import { RedisRequestStore } from '../src/store/request-store.js';
import { startInfra } from './support/infra.js';
import {
  benchResult,
  latencyCells,
  latencyHeader,
  table,
  type BenchResult,
  type Check,
} from './support/report.js';
import { ms, rate, runBounded, summarize, type LoadResult, type Summary } from './support/stats.js';

/** The audit chain keyed as the service keys it (HMAC), so verify measures the real path. */
const chainKey = hmacKeysFrom(TEST_HMAC_KEY).auditChain;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REQUESTS = 2000;
const CONTENDED = 200;
const CONTENDERS = 20;
const VERIFY_ENTRIES = 10_000;

interface Row {
  what: string;
  concurrency: string;
  ops: number;
  errors: number;
  perSecond: number;
  latency: Summary;
}

function row(what: string, concurrency: string, r: LoadResult, opsPerTask = 1): Row {
  return {
    what,
    concurrency,
    ops: r.completed * opsPerTask,
    errors: r.errors,
    perSecond: rate(r.completed * opsPerTask, r.elapsedMs),
    latency: summarize(r.latencies),
  };
}

function newRequest(id: string, now: number): AccessRequest {
  return {
    id,
    version: 0,
    state: 'pending',
    requesterId: 'U0REQUESTER',
    requesterName: 'Rita Requester',
    principalArn: 'arn:aws:iam::123456789012:user/requester',
    accountId: '222222222222',
    accountName: 'sandbox',
    ouPath: [{ id: 'ou-root-sandbox', name: 'Sandbox' }],
    templateName: 'readonly',
    durationSeconds: 3600,
    reason: 'bench: checking alarms on the sandbox account',
    ruleName: 'default',
    approvalsRequired: 1,
    approvals: [],
    breakGlass: false,
    autoApproved: false,
    createdAt: now,
    updatedAt: now,
    pendingUntil: now + 86_400_000,
    extensions: 0,
  };
}

function event(i: number, actor: string): AuditEvent {
  return {
    at: new Date().toISOString(),
    actor,
    action: 'approve',
    outcome: i % 5 === 0 ? 'refused' : 'ok',
    requestId: `r-${String(i).padStart(10, '0')}`,
    stateBefore: 'pending',
    stateAfter: 'approved',
    reason: i % 5 === 0 ? 'request is already active; nothing was changed' : undefined,
    details: { approvals: 1, required: 1 },
  };
}

async function evalshaCalls(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  const sum = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
  return sum('evalsha') + sum('eval');
}

export async function storeBench(): Promise<BenchResult> {
  const started = performance.now();
  const infra = await startInfra({ moto: false });
  const redis = new Redis(infra.redisUrl, { maxRetriesPerRequest: 2 });
  const rows: Row[] = [];
  const checks: Check[] = [];
  const extra: Record<string, unknown> = {};
  const replicas: Redis[] = [];
  let tmp: string | undefined;
  try {
    // ── requests ──────────────────────────────────────────────────────────
    const prefix = `bench-store-${randomBytes(4).toString('hex')}`;
    const store = new RedisRequestStore(redis, prefix, systemClock);
    const now = Date.now();
    const ids = Array.from({ length: REQUESTS }, (_, i) => `r-${String(i).padStart(10, '0')}`);
    const timed = async (fn: () => Promise<unknown>) => {
      const t0 = performance.now();
      await fn();
      return performance.now() - t0;
    };
    rows.push(
      row(
        'create request',
        '32',
        await runBounded({
          total: REQUESTS,
          concurrency: 32,
          maxMs: 20_000,
          task: (i) => timed(() => store.create(newRequest(ids[i]!, now))),
        }),
      ),
    );
    // The lifecycle of a granted request: approve (Lua), → active, → revoked; three transitions each.
    const lifecycle = async (id: string) => {
      const a = await store.approve(id, 'U0APPROVER1', Date.now());
      if (a.result !== 'approved') throw new Error(`approve: ${a.result}`);
      const b = await store.transition(id, {
        from: ['approved'],
        to: 'active',
        patch: { startsAt: now, expiresAt: now + 3_600_000, roleName: `aws-access-${id}` },
      });
      if (!b.ok) throw new Error(`activate: ${b.reason}`);
      const c = await store.transition(id, {
        from: ['active', 'revoke-failed'],
        to: 'revoked',
        patch: { revokedAt: Date.now(), revokedBy: 'system' },
      });
      if (!c.ok) throw new Error(`revoke: ${c.reason}`);
    };
    const single = await runBounded({
      total: 300,
      concurrency: 1,
      maxMs: 15_000,
      task: (i) => timed(() => lifecycle(ids[i]!)),
    });
    rows.push(
      row(
        'transition (approve → active → revoked, per transition)',
        '1',
        { ...single, latencies: single.latencies.map((l) => l / 3) },
        3,
      ),
    );
    const rest = ids.slice(300);
    const many = await runBounded({
      total: rest.length,
      concurrency: 32,
      maxMs: 20_000,
      task: (i) => timed(() => lifecycle(rest[i]!)),
    });
    rows.push(
      row(
        'transition (approve → active → revoked, per transition)',
        '32',
        { ...many, latencies: many.latencies.map((l) => l / 3) },
        3,
      ),
    );
    const revokedCount = await redis.zcard(`${prefix}:requests:state:revoked`);
    checks.push({
      what: 'every lifecycle ended in revoked and the state indexes agree',
      ok:
        revokedCount === single.completed + many.completed &&
        single.errors + many.errors === 0 &&
        (await redis.zcard(`${prefix}:requests:state:pending`)) === REQUESTS - revokedCount,
      detail: `${revokedCount} revoked`,
    });

    // 20 approvers at once on each of 200 requests: exactly one 'approved' each.
    const contendedIds = Array.from({ length: CONTENDED }, (_, i) => `c-${String(i).padStart(10, '0')}`);
    for (const id of contendedIds) await store.create(newRequest(id, now));
    const outcomes = new Map<string, number>();
    const contention = await runBounded({
      total: CONTENDED,
      concurrency: 4,
      maxMs: 20_000,
      task: (i) =>
        timed(async () => {
          const results = await Promise.all(
            Array.from({ length: CONTENDERS }, (_, k) =>
              store.approve(contendedIds[i]!, `U0CROWD${k}`, Date.now()),
            ),
          );
          for (const r of results) outcomes.set(r.result, (outcomes.get(r.result) ?? 0) + 1);
        }),
    });
    rows.push(
      row(
        `approve, ${CONTENDERS} at once on one request (per approve)`,
        `${4 * CONTENDERS}`,
        { ...contention, latencies: contention.latencies },
        CONTENDERS,
      ),
    );
    checks.push({
      what: `${CONTENDERS} concurrent approvals on each of ${CONTENDED} requests: exactly one approved each`,
      ok:
        outcomes.get('approved') === CONTENDED &&
        outcomes.get('not-pending') === CONTENDED * (CONTENDERS - 1),
      detail: [...outcomes].map(([k, v]) => `${k} ${v}`).join(', '),
    });

    // ── audit ─────────────────────────────────────────────────────────────
    const auditPrefix = `bench-audit-${randomBytes(4).toString('hex')}`;
    const one = new RedisAuditLog(redis, auditPrefix, { chainKey });
    await redis.config('RESETSTAT');
    const oneRun = await runBounded({
      total: 5000,
      concurrency: 64,
      maxMs: 20_000,
      task: (i) => timed(() => one.record(event(i, 'U0ONE'))),
    });
    const oneScripts = await evalshaCalls(redis);
    rows.push(row('audit append, one process', '64', oneRun));
    const verifyOne = await one.verify();
    checks.push({
      what: 'audit chain intact after appends from one process',
      ok: verifyOne.ok && verifyOne.entries === oneRun.completed,
      detail: `${verifyOne.entries} entries`,
    });

    // Four processes' worth of writers: separate connections and RedisAuditLog instances, so
    // appends race on the chain head and the compare-and-set retries.
    for (let r = 0; r < 4; r++) replicas.push(new Redis(infra.redisUrl, { maxRetriesPerRequest: 2 }));
    const logs = replicas.map((c) => new RedisAuditLog(c, auditPrefix, { chainKey }));
    await redis.config('RESETSTAT');
    const fourRun = await runBounded({
      total: 4000,
      concurrency: 64,
      maxMs: 30_000,
      task: (i) => timed(() => logs[i % 4]!.record(event(i, `U0REPLICA${i % 4}`))),
    });
    const fourScripts = await evalshaCalls(redis);
    rows.push(row('audit append, four writers (replicas) on one chain', '64 (16 each)', fourRun));
    const verifyFour = await one.verify();
    checks.push({
      what: 'audit chain intact and no append lost with four racing writers',
      ok:
        verifyFour.ok && verifyFour.entries === oneRun.completed + fourRun.completed && fourRun.errors === 0,
      detail: `${verifyFour.entries} entries, ${fourRun.errors} failed appends${fourRun.firstError ? ` (${fourRun.firstError})` : ''}`,
    });
    extra.auditScriptsPerAppend = {
      oneProcess: oneScripts / Math.max(1, oneRun.completed),
      fourWriters: fourScripts / Math.max(1, fourRun.completed),
    };

    // ── verify 10,000 ─────────────────────────────────────────────────────
    const verifyPrefix = `bench-verify-${randomBytes(4).toString('hex')}`;
    const big = new RedisAuditLog(redis, verifyPrefix, { chainKey });
    const fill = await runBounded({
      total: VERIFY_ENTRIES,
      concurrency: 64,
      maxMs: 60_000,
      task: (i) => timed(() => big.record(event(i, 'U0FILL'))),
    });
    const verifyTimes: number[] = [];
    let verified: Awaited<ReturnType<RedisAuditLog['verify']>> | undefined;
    for (let k = 0; k < 3; k++) {
      const t0 = performance.now();
      verified = await big.verify();
      verifyTimes.push(performance.now() - t0);
    }
    // The real CLI, as an operator runs it (includes Node/tsx start-up and config loading).
    tmp = mkdtempSync(path.join(os.tmpdir(), 'aab-bench-'));
    const configFile = path.join(tmp, 'config.yaml');
    const fixture = readFileSync(path.join(ROOT, 'test/fixtures/config.yaml'), 'utf8').replace(
      'directory: ../../templates',
      `directory: ${path.join(ROOT, 'templates')}`,
    );
    writeFileSync(configFile, `${fixture}\nredis:\n  prefix: ${verifyPrefix}\n`);
    const cliStart = performance.now();
    const cliOut = execFileSync(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src/cli.ts'), 'audit', 'verify', '--config', configFile],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          REDIS_URL: infra.redisUrl,
          LOG_LEVEL: 'silent',
          AWS_ACCESS_HMAC_KEY: TEST_HMAC_KEY,
        },
        encoding: 'utf8',
      },
    );
    const cliMs = performance.now() - cliStart;
    const helpStart = performance.now();
    execFileSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli.ts'), 'audit', '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const cliStartupMs = performance.now() - helpStart;
    checks.push({
      what: `audit verify of ${VERIFY_ENTRIES.toLocaleString('en')} entries passes, in-process and through the CLI`,
      ok:
        Boolean(verified?.ok) &&
        verified?.entries === VERIFY_ENTRIES &&
        cliOut.includes(`${VERIFY_ENTRIES} entries`),
      detail: cliOut.trim(),
    });
    extra.verify = {
      entries: VERIFY_ENTRIES,
      fill: row('audit append (filling)', '64', fill),
      inProcessMs: summarize(verifyTimes),
      cliMs,
      cliStartupMs,
    };
    rows.push(row(`audit append (filling ${VERIFY_ENTRIES.toLocaleString('en')})`, '64', fill));

    const v = extra.verify as { inProcessMs: Summary; cliMs: number; cliStartupMs: number };
    return benchResult({
      name: 'store',
      title: 'Request store and audit log in Redis',
      started,
      sections: [
        table(
          ['operation', 'concurrency', 'ops', 'ops/s', ...latencyHeader, 'errors'],
          rows.map((r) => [
            r.what,
            r.concurrency,
            r.ops,
            r.perSecond.toFixed(0),
            ...latencyCells(r.latency),
            r.errors,
          ]),
        ),
        '',
        `Audit appends are compare-and-set on the chain head: Lua calls per stored entry were ${(extra.auditScriptsPerAppend as { oneProcess: number }).oneProcess.toFixed(2)} from one process (appends queue in-process) and ${(extra.auditScriptsPerAppend as { fourWriters: number }).fourWriters.toFixed(2)} with four racing writers (the rest are retries after losing the race).`,
        '',
        table(
          [`audit verify, ${VERIFY_ENTRIES.toLocaleString('en')} entries`, 'time'],
          [
            ['`RedisAuditLog.verify()` in-process (median of 3)', `${ms(v.inProcessMs.p50)} ms`],
            [
              '`aws-access-bot audit verify` via `tsx src/cli.ts` (wall, incl. start-up)',
              `${ms(v.cliMs)} ms`,
            ],
            ['of which CLI start-up (`audit --help`, same runner)', `${ms(v.cliStartupMs)} ms`],
          ],
        ),
      ],
      checks,
      data: { rows, ...extra },
    });
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    await Promise.all(replicas.map((r) => r.quit().catch(() => r.disconnect())));
    await redis.quit().catch(() => redis.disconnect());
    await infra.stop();
  }
}
