/**
 * Revocation at scale (issue #14): 10,000 active grants whose ends fall within one 60-second
 * window, made ahead of time through the real store (records signed as the bot signs them, an
 * approval with its proof, approved → active) and the real scheduler (`revoke-<id>` delayed
 * jobs), then revoked by the worker role running in its own process. Measured: the lateness from
 * each grant's end to the engine's revoke call and to `revoked` in Redis; that all were revoked;
 * the RSS of a worker and a web process with 10,000 active grants; Redis bytes per active grant.
 *
 * Two engines: the recording engine (the bot's own cost), and a stand-in at AWS's pace (40 ms per
 * IAM call, 10 IAM calls per revoke, throttled above 10 calls/s per account, 100 accounts).
 * Floors, in the same run: BullMQ delayed jobs with a no-op worker, 10,000 due in the same
 * window; for the stand-in, the schedule that paces every account at exactly its call budget.
 */
import { randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { systemClock } from '../src/clock.js';
import { hmacKeysFrom } from '../src/config/hmac-keys.js';
import type { AccessRequest } from '../src/domain/access-request.js';
import { approvalContent, requestContent } from '../src/domain/request-integrity.js';
import { BullRequestScheduler } from '../src/jobs/approval-scheduler.js';
import { jobId, producerConnectionOptions, QueueName, Queues, queuePrefix } from '../src/jobs/queues.js';
import { requestStoreOptions } from '../src/request-settings.js';
import { hmacRecordSigner } from '../src/store/record-signer.js';
import { RedisRequestStore } from '../src/store/request-store.js';
import { TEST_HMAC_KEY } from '../test/support/slack-request.js';
import { benchConfig } from './support/config.js';
import { startInfra } from './support/infra.js';
import {
  benchResult,
  latencyCells,
  latencyHeader,
  table,
  type BenchResult,
  type Check,
} from './support/report.js';
import { startServiceProcess, type ServiceHandle } from './support/service-client.js';
import type { ProcessStats, ServiceProcessOptions } from './support/service-process.js';
import { startSlack } from './support/slack-load.js';
import { ms, pool, summarize, type Summary } from './support/stats.js';

const GRANTS = Number(process.env.BENCH_REVOKE_GRANTS ?? 10_000);
/** `BENCH_REVOKE_GRANTS` / `BENCH_REVOKE_WINDOW_S` shrink the run for a quick try; the doc figures use the defaults. */
const WINDOW_MS = Number(process.env.BENCH_REVOKE_WINDOW_S ?? 60) * 1000;
const ACCOUNTS = 100;
/** The stand-in's pace (test/support/throttled-grant-engine.ts). */
const CALL_MS = 40;
const REVOKE_CALLS = 10;
const CALLS_PER_SECOND = 10;
const TARGET_P99_MS = 1000;
const TARGET_MAX_MS = 2000;
const TARGET_RSS_MIB = 250;

interface PlannedGrant {
  id: string;
  accountId: string;
  end: number;
}

const accountOf = (i: number) => String(100_000_000_000 + (i % ACCOUNTS));

/** Ends spread evenly over [start, start + WINDOW_MS), in a shuffled order of accounts. */
function plan(start: number): PlannedGrant[] {
  return Array.from({ length: GRANTS }, (_, i) => ({
    id: `r-${randomBytes(5).toString('hex')}`,
    accountId: accountOf(Math.floor(Math.random() * ACCOUNTS)),
    end: Math.round(start + (i * WINDOW_MS) / GRANTS),
  }));
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

/** Stores and schedules every planned grant as provisioning leaves it: active, revoke job due at its end. */
async function createGrants(redisUrl: string, prefix: string, grants: PlannedGrant[]): Promise<number> {
  const started = performance.now();
  const loaded = benchConfig(prefix);
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  const producer = new Redis(redisUrl, producerConnectionOptions);
  const queues = new Queues(producer, prefix);
  const store = new RedisRequestStore(redis, prefix, systemClock, requestStoreOptions(loaded.config));
  const scheduler = new BullRequestScheduler(queues, systemClock);
  const signer = hmacRecordSigner(hmacKeysFrom(TEST_HMAC_KEY).requestRecord);
  const warning = loaded.config.durations.expiryWarning * 1000;
  try {
    await pool(grants, 64, async (g, i) => {
      const now = Date.now();
      const durationSeconds = Math.ceil((g.end - now) / 1000);
      const requester = `U0SCALE${String(i).padStart(6, '0')}`;
      const request: AccessRequest = {
        id: g.id,
        version: 1,
        state: 'approved',
        requesterId: requester,
        principalArn: `arn:aws:iam::123456789012:user/${requester}`,
        accountId: g.accountId,
        accountName: `account-${g.accountId}`,
        ouPath: [],
        templateName: 'readonly',
        durationSeconds,
        reason: 'revoke-scale bench',
        ruleName: 'default',
        approvalsRequired: 1,
        approvals: [],
        breakGlass: false,
        autoApproved: false,
        createdAt: now,
        updatedAt: now,
        pendingUntil: now + 3600_000,
        decidedBy: 'U0APPROVER1',
        decidedAt: now,
        extensions: 0,
        // The approvers' message, updated in place when the grant ends (as for a real request).
        message: { channel: 'C0APPROVALS', ts: `${Math.floor(now / 1000)}.${String(i).padStart(6, '0')}` },
      };
      await store.create({ ...request, signature: signer.sign(requestContent(request)) });
      await redis.zadd(`${prefix}:request:${g.id}:approvals`, now, 'U0APPROVER1');
      await store.setApprovalProof(g.id, 'U0APPROVER1', signer.sign(approvalContent(g.id, 'U0APPROVER1')));
      const roleName = `aws-access-${g.id}`;
      const moved = await store.transition(g.id, {
        from: ['approved'],
        to: 'active',
        patch: {
          startsAt: now,
          expiresAt: g.end,
          roleName,
          roleArn: `arn:aws:iam::${g.accountId}:role/aws-access/${roleName}`,
        },
      });
      if (!moved.ok) throw new Error(`could not activate ${g.id}: ${moved.reason}`);
      await scheduler.scheduleGrantEnd(g.id, { revokeAt: g.end, warnAt: g.end - warning });
    });
  } finally {
    await queues.close();
    await producer.quit().catch(() => producer.disconnect());
    await redis.quit().catch(() => redis.disconnect());
  }
  return performance.now() - started;
}

/** Bytes per grant of the keys one grant owns, by MEMORY USAGE on a sample. */
async function sampleKeyBytes(redis: Redis, prefix: string, ids: string[]): Promise<Record<string, number>> {
  const kinds: Record<string, (id: string) => string> = {
    'request hash': (id) => `${prefix}:request:${id}`,
    approvals: (id) => `${prefix}:request:${id}:approvals`,
    'approval proofs': (id) => `${prefix}:request:${id}:approval-proofs`,
    'revoke job hash': (id) => `${queuePrefix(prefix)}:${QueueName.grants}:${jobId.revoke(id)}`,
    'requester index': (id) =>
      `${prefix}:requests:requester:U0SCALE${String(ids.indexOf(id)).padStart(6, '0')}`,
  };
  const out: Record<string, number> = {};
  for (const [kind, key] of Object.entries(kinds)) {
    const sizes = await Promise.all(
      ids.map(async (id) => Number((await redis.memory('USAGE', key(id))) ?? 0)),
    );
    out[kind] = sizes.reduce((a, b) => a + b, 0) / sizes.length;
  }
  return out;
}

/** The floor: BullMQ delayed jobs due at the same ends, a worker that does nothing. */
async function floorRun(redisUrl: string, concurrency: number): Promise<{ late: Summary; done: number }> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const prefix = `bench-floor-${randomBytes(4).toString('hex')}`;
  const queue = new Queue('floor', { connection, prefix });
  const start = Date.now() + 8000;
  const grants = plan(start);
  const late: number[] = [];
  const blocking = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const worker = new Worker<{ end: number }>(
    'floor',
    async (job) => {
      late.push(Date.now() - job.data.end);
    },
    { connection: blocking, prefix, concurrency },
  );
  try {
    for (let i = 0; i < grants.length; i += 1000) {
      await queue.addBulk(
        grants.slice(i, i + 1000).map((g) => ({
          name: 'revoke',
          data: { end: g.end },
          opts: { jobId: `revoke-${g.id}`, delay: Math.max(0, g.end - Date.now()), removeOnComplete: true },
        })),
      );
    }
    const deadline = start + WINDOW_MS + 20_000;
    while (late.length < grants.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  } finally {
    await worker.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await blocking.quit().catch(() => blocking.disconnect());
    await connection.quit().catch(() => connection.disconnect());
  }
  return { late: summarize(late), done: late.length };
}

/** The stand-in's floor: every account revoking back to back at exactly its call budget. */
function pacedFloor(grants: PlannedGrant[]): { toCall: Summary; toRevoked: Summary; lastDoneMs: number } {
  const byAccount = new Map<string, number[]>();
  for (const g of grants) byAccount.set(g.accountId, [...(byAccount.get(g.accountId) ?? []), g.end]);
  const toCall: number[] = [];
  const toRevoked: number[] = [];
  // A revoke's 10 calls take 10 × 40 ms; the account's next 10 calls may start 1 s after these.
  const spacing = (REVOKE_CALLS / CALLS_PER_SECOND) * 1000;
  let lastDone = 0;
  for (const ends of byAccount.values()) {
    let free = -Infinity;
    for (const end of ends.sort((a, b) => a - b)) {
      const start = Math.max(end, free);
      free = start + Math.max(spacing, REVOKE_CALLS * CALL_MS);
      toCall.push(start - end);
      toRevoked.push(start + REVOKE_CALLS * CALL_MS - end);
      lastDone = Math.max(lastDone, start + REVOKE_CALLS * CALL_MS);
    }
  }
  return {
    toCall: summarize(toCall),
    toRevoked: summarize(toRevoked),
    lastDoneMs: lastDone - grants[0]!.end,
  };
}

interface EngineRun {
  engine: 'recording' | 'throttled';
  createMs: number;
  leadMs: number;
  revoked: number;
  early: number;
  earliestMs: number;
  toCall: Summary;
  toRevoked: Summary;
  worker: ProcessStats;
  web: ProcessStats;
  workerRssAtRestMiB: number;
  webRssAtRestMiB: number;
  bytesPerGrant: number;
  keyBytes: Record<string, number>;
  floor?: ReturnType<typeof pacedFloor>;
}

export async function engineRun(
  redisUrl: string,
  engine: EngineRun['engine'],
  revocation?: ServiceProcessOptions['revocation'],
): Promise<EngineRun> {
  const { fake } = await startSlack();
  const prefix = `bench-scale-${randomBytes(4).toString('hex')}`;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  const services: ServiceHandle[] = [];
  try {
    const common = {
      redisUrl,
      slackApiUrl: fake.apiUrl,
      prefix,
      engine,
      scheduleReconcile: false,
      revocation,
    } as const;
    const worker = await startServiceProcess({ ...common, role: 'worker' });
    services.push(worker);
    const web = await startServiceProcess({ ...common, role: 'web' });
    services.push(web);
    const before = await usedMemory(redis);
    // The window opens once every grant is stored (5-30 s for 10,000 here, with the machine's load).
    const leadMs = Math.max(10_000, GRANTS * 4);
    const grants = plan(Date.now() + leadMs);
    const createMs = await createGrants(redisUrl, prefix, grants);
    if (Date.now() > grants[0]!.end)
      throw new Error(`creating ${GRANTS} grants took ${Math.round(createMs)} ms, past the window's start`);
    const after = await usedMemory(redis);
    const keyBytes = await sampleKeyBytes(
      redis,
      prefix,
      grants.slice(0, 200).map((g) => g.id),
    );
    // The web role serves /metrics, which counts the active grants.
    await fetch(`${web.baseUrl}/metrics`).then((r) => r.text());
    const [workerAtRest, webAtRest] = await Promise.all([worker.stats(), web.stats()]);
    const floor = engine === 'throttled' ? pacedFloor(grants) : undefined;
    const stateKey = `${prefix}:requests:state:revoked`;
    // Bounded: the floor's own finish, half as long again, and 20 s.
    const deadline = grants[0]!.end + (floor ? floor.lastDoneMs * 1.5 : WINDOW_MS) + 20_000;
    for (;;) {
      const revoked = await redis.zcard(stateKey);
      if (revoked >= grants.length || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const pipeline = redis.pipeline();
    for (const g of grants) pipeline.hmget(`${prefix}:request:${g.id}`, 'state', 'revokedAt');
    const rows = ((await pipeline.exec()) ?? []).map(([, v]) => v as [string | null, string | null]);
    const [workerStats, webStats] = await Promise.all([worker.stats(), web.stats()]);
    const firstCall = new Map<string, number>();
    for (const c of workerStats.grantCalls) {
      if (c.method === 'revoke' && c.requestId && !firstCall.has(c.requestId))
        firstCall.set(c.requestId, c.startedAt);
    }
    const lateCall: number[] = [];
    const lateState: number[] = [];
    grants.forEach((g, i) => {
      const call = firstCall.get(g.id);
      if (call !== undefined) lateCall.push(call - g.end);
      const [state, revokedAt] = rows[i] ?? [];
      if (state === 'revoked' && revokedAt) lateState.push(Number(revokedAt) - g.end);
    });
    return {
      engine,
      createMs,
      leadMs,
      revoked: lateState.length,
      early: lateCall.filter((l) => l < 0).length,
      earliestMs: Math.min(...lateCall),
      toCall: summarize(lateCall),
      toRevoked: summarize(lateState),
      worker: { ...workerStats, grantCalls: [] },
      web: { ...webStats, grantCalls: [] },
      workerRssAtRestMiB: workerAtRest.rssMiB,
      webRssAtRestMiB: webAtRest.rssMiB,
      bytesPerGrant: (after - before) / GRANTS,
      keyBytes,
      floor,
    };
  } finally {
    for (const s of services) await s.stop();
    await redis.quit().catch(() => redis.disconnect());
    await fake.stop();
  }
}

const ratio = (value: number, floor: number) => (floor > 0 ? `${(value / floor).toFixed(1)}×` : 'n/a');

export async function revokeScaleBench(): Promise<BenchResult> {
  const started = performance.now();
  const infra = await startInfra({ moto: false });
  const concurrency = benchConfig('x').config.revocation.workerConcurrency;
  const checks: Check[] = [];
  let floor: Awaited<ReturnType<typeof floorRun>>;
  const runs: EngineRun[] = [];
  try {
    console.error(`  floor: ${GRANTS} BullMQ delayed jobs, no-op worker (concurrency ${concurrency})`);
    floor = await floorRun(infra.redisUrl, concurrency);
    for (const engine of ['recording', 'throttled'] as const) {
      console.error(`  ${engine} engine: ${GRANTS} grants ending within ${WINDOW_MS / 1000} s`);
      runs.push(await engineRun(infra.redisUrl, engine));
    }
  } finally {
    await infra.stop();
  }
  const [recording, throttled] = runs as [EngineRun, EngineRun];
  checks.push({
    what: `recording engine: all ${GRANTS} grants revoked, lateness p99 ≤ ${TARGET_P99_MS / 1000} s and max ≤ ${TARGET_MAX_MS / 1000} s`,
    ok:
      recording.revoked === GRANTS &&
      recording.toRevoked.p99 <= TARGET_P99_MS &&
      recording.toRevoked.max <= TARGET_MAX_MS,
    detail: `${recording.revoked}/${GRANTS} revoked, p99 ${ms(recording.toRevoked.p99)} ms, max ${ms(recording.toRevoked.max)} ms`,
  });
  checks.push({
    what: `stand-in engine (40 ms per IAM call, 10 calls/s per account, ${ACCOUNTS} accounts): all ${GRANTS} revoked`,
    ok: throttled.revoked === GRANTS,
    detail: `${throttled.revoked}/${GRANTS} revoked; ${throttled.worker.engineCounts?.throttled ?? 0} throttled answers of ${throttled.worker.engineCounts?.calls ?? 0} IAM calls`,
  });
  for (const run of runs) {
    checks.push({
      what: `${run.engine}: no grant revoked before its end`,
      ok: run.early === 0,
      detail: `${run.early} early; earliest revoke call ${ms(run.earliestMs)} ms after its end`,
    });
  }
  checks.push({
    what: `RSS of the web and the worker process with ${GRANTS} active grants ≤ ${TARGET_RSS_MIB} MB each (before their window; the peaks while revoking are in the table)`,
    ok: runs.every((r) => Math.max(r.workerRssAtRestMiB, r.webRssAtRestMiB) <= TARGET_RSS_MIB),
    detail: runs
      .map(
        (r) =>
          `${r.engine}: worker ${r.workerRssAtRestMiB.toFixed(0)} MiB at rest, peak ${r.worker.maxRssMiB.toFixed(0)}; web ${r.webRssAtRestMiB.toFixed(0)}, peak ${r.web.maxRssMiB.toFixed(0)}`,
      )
      .join('; '),
  });
  const lateRows = (run: EngineRun, label: string) => [
    [`${label}: → revoke call on the engine`, run.toCall.n, ...latencyCells(run.toCall), ''],
    [
      `${label}: → request \`revoked\` in Redis`,
      run.toRevoked.n,
      ...latencyCells(run.toRevoked),
      run.engine === 'recording'
        ? `${ratio(run.toRevoked.p99, floor.late.p99)} / ${ratio(run.toRevoked.max, floor.late.max)}`
        : `${ratio(run.toRevoked.p99, run.floor!.toRevoked.p99)} / ${ratio(run.toRevoked.max, run.floor!.toRevoked.max)}`,
    ],
  ];
  const tf = throttled.floor!;
  const lateness = table(
    ["lateness after the grant's end", 'n', ...latencyHeader, 'p99 / max vs floor'],
    [
      ['floor: BullMQ delayed job → no-op worker', floor.late.n, ...latencyCells(floor.late), ''],
      ...lateRows(recording, 'recording engine'),
      [
        'floor (stand-in): each account paced at exactly 10 calls/s, → revoked',
        tf.toRevoked.n,
        ...latencyCells(tf.toRevoked),
        '',
      ],
      ...lateRows(throttled, 'stand-in engine'),
    ],
  );
  const c = throttled.worker.engineCounts;
  const lim = throttled.worker.revocationCounts;
  const calls =
    `Stand-in: ${c?.calls ?? 0} IAM calls for ${c?.revokes ?? 0} revokes (${REVOKE_CALLS} each = ${(c?.revokes ?? 0) * REVOKE_CALLS} needed), ` +
    `${c?.throttled ?? 0} throttled answers, at most ${c?.maxCallsPerSecond ?? 0} calls admitted in one second of one account; ` +
    `the limiter made ${lim?.attempts ?? 0} revoke attempts (${lim?.throttled ?? 0} throttled, ${lim?.gaveUp ?? 0} handed back to the job's retry). ` +
    `At ${CALLS_PER_SECOND} calls/s per account a revoke of ${REVOKE_CALLS} calls is at most one per second per account, ${ACCOUNTS}/s in all, ` +
    `while ${GRANTS} ends in ${WINDOW_MS / 1000} s arrive at ${(GRANTS / (WINDOW_MS / 1000)).toFixed(0)}/s: the last revocation cannot finish before ${(tf.lastDoneMs / 1000).toFixed(0)} s after the window opened.`;
  const memory = table(
    [
      'engine run',
      'worker RSS, 10,000 active (MiB)',
      'worker peak',
      'web RSS, 10,000 active',
      'web peak',
      'worker V8 heap used, peak',
      'Redis bytes per active grant',
      'worker CPU s (user+sys)',
    ],
    runs.map((r) => [
      r.engine,
      r.workerRssAtRestMiB.toFixed(0),
      r.worker.maxRssMiB.toFixed(0),
      r.webRssAtRestMiB.toFixed(0),
      r.web.maxRssMiB.toFixed(0),
      r.worker.peakHeapUsedMiB.toFixed(0),
      r.bytesPerGrant.toFixed(0),
      ((r.worker.cpuUserMs + r.worker.cpuSystemMs) / 1000).toFixed(1),
    ]),
  );
  const keys = `Per grant by \`MEMORY USAGE\` (mean of 200): ${Object.entries(recording.keyBytes)
    .map(([k, v]) => `${k} ${v.toFixed(0)} B`)
    .join(
      ', ',
    )}; the rest of the INFO \`used_memory\` difference is sorted-set entries (state, expiry and BullMQ delayed indexes) and allocator overhead. Making 10,000 grants took ${(recording.createMs / 1000).toFixed(1)} s (${(throttled.createMs / 1000).toFixed(1)} s for the second run). The grants were spread at random over ${ACCOUNTS} accounts; the grants worker ran ${concurrency} jobs at once.`;
  return benchResult({
    name: 'revoke-scale',
    title: 'Revocation at scale',
    started,
    sections: [lateness, '', calls, '', memory, '', keys],
    checks,
    data: { grants: GRANTS, windowMs: WINDOW_MS, accounts: ACCOUNTS, concurrency, floor, runs },
  });
}
