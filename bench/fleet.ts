/**
 * 7. The fleet: reconcile and the hygiene sweep across 1,000 accounts (issue #14, "Fleet"),
 * through the bot's real job code paths and the real AWS SDK over HTTP to the stand-in AWS of
 * bench/support/aws-standin.ts (40 ms per call, IAM throttled above 10 calls/s per account).
 *
 * The service runs with the worker role (`startService`), Organizations discovery on, so its
 * reconcile and hygiene workers, broker sessions and `aws.concurrency` limits are the
 * production ones. Each account holds two active grants (requests stored in Redis as the bot
 * stores them) and one orphaned role; the credential report has 1,000 users per account.
 *
 * - reconcile: one `reconcile` job on the reconcile queue, run by the service's worker;
 *   with the default `aws.concurrency`, and again with the per-account rate limit off
 *   (`callsPerSecond: 0`, concurrency only) so IAM throttles and the SDK's backoff is measured;
 * - hygiene: one `sweep` job on the hygiene queue, which fans out one `sweep-account` job per
 *   account, run by the service's hygiene worker;
 * - floors in the same run: the stand-in's own limit (IAM calls ÷ (10 calls/s × accounts at
 *   once)), a no-op reconcile pass (the same handler, an engine that answers at once) and the
 *   BullMQ fan-out of 1,000 no-op jobs at the same concurrency.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { OrganizationsAccountDirectory } from '../src/aws/account-directory.js';
import { clientConfig, GLOBAL_REGION } from '../src/aws/aws-clients.js';
import type { EnvOptions } from '../src/config/env.js';
import type { LoadedConfig } from '../src/config/load-config.js';
import type { AccessRequest } from '../src/domain/access-request.js';
import type { GrantEngine } from '../src/domain/ports.js';
import { HygieneJob } from '../src/jobs/hygiene-workers.js';
import { QueueName, queueOptions } from '../src/jobs/queues.js';
import { RECONCILE_JOB, runReconcile, type ReconcileSummary } from '../src/jobs/reconcile.js';
import { createLogger } from '../src/logger.js';
import { startService, type RunningService } from '../src/main.js';
import { HygieneStore } from '../src/store/hygiene-store.js';
import { startFakeSlack } from '../test/support/fake-slack.js';
import { TEST_HMAC_KEY, TEST_SIGNING_SECRET } from '../test/support/slack-request.js';
import { storeAsTheBot } from '../test/support/stored-requests.js';
import {
  activeRequestId,
  expectedFindings,
  fleetAccountId,
  orphanRequestId,
  startAwsStandin,
  STANDIN_DEFAULTS,
  type AwsStandin,
  type StandinStats,
} from './support/aws-standin.js';
import { benchConfig } from './support/config.js';
import { startInfra } from './support/infra.js';
import { benchResult, table, type BenchResult, type Check } from './support/report.js';
import { ms, pool, waitFor } from './support/stats.js';

const ACCOUNTS = Number(process.env.BENCH_FLEET_ACCOUNTS ?? 1000);
const USERS = 1000;
const ACTIVE_PER_ACCOUNT = 2;
const ORPHANS_PER_ACCOUNT = 1;
const RECONCILE_GOAL_MS = 60_000;
const HYGIENE_GOAL_MS = 600_000;
/** Past these the bench stops waiting and reports what it has (goal × 2.5, bounded run). */
const RECONCILE_TIMEOUT_MS = 150_000;
const HYGIENE_TIMEOUT_MS = 900_000;
const HOUR = 3_600_000;

interface RunFigures {
  label: string;
  wallMs: number;
  cpuMs: number;
  standin: StandinStats;
  sdkCalls: number;
  sdkRetries: number;
  concurrency: { accounts: number; perAccount: number; callsPerSecond: number };
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

async function counterTotal(counter: { get(): Promise<{ values: Array<{ value: number }> }> }) {
  return sum((await counter.get()).values.map((v) => v.value));
}

function fleetConfig(prefix: string, callsPerSecond?: number): LoadedConfig {
  return benchConfig(prefix, (c) => {
    c.aws.organizations.enabled = true;
    c.aws.accounts = [];
    if (callsPerSecond !== undefined) c.aws.concurrency.callsPerSecond = callsPerSecond;
  });
}

function activeRequest(n: number, k: number, now: number): AccessRequest {
  return {
    id: activeRequestId(n, k),
    version: 1,
    state: 'active',
    requesterId: 'U0REQUESTER',
    principalArn: 'arn:aws:iam::123456789012:user/requester',
    accountId: fleetAccountId(n),
    accountName: `fleet-${n}`,
    ouPath: [],
    templateName: 'readonly',
    durationSeconds: 8 * 3600,
    reason: 'fleet bench',
    ruleName: 'default',
    approvalsRequired: 1,
    approvals: [],
    breakGlass: false,
    autoApproved: true,
    createdAt: now - HOUR,
    updatedAt: now - HOUR,
    pendingUntil: now,
    decidedBy: 'system',
    decidedAt: now - HOUR,
    startsAt: now - HOUR,
    expiresAt: now + 8 * HOUR,
    roleName: `aws-access-${activeRequestId(n, k)}`,
    extensions: 0,
  };
}

interface Harness {
  service: RunningService;
  loaded: LoadedConfig;
  stop(): Promise<void>;
}

async function startWorkerService(env: EnvOptions, loaded: LoadedConfig): Promise<Harness> {
  const logger = createLogger({ level: process.env.BENCH_LOG_LEVEL ?? 'silent' });
  const service = await startService({
    env,
    role: 'worker',
    logger,
    loaded,
    host: '127.0.0.1',
    scheduleReconcile: false,
    shutdown: { timeoutMs: 10_000, drainMs: 0 },
  });
  return { service, loaded, stop: () => service.stop() };
}

/** Runs one job on `queue` through the service's worker and returns its result (bounded). */
async function runJob<T>(
  redisUrl: string,
  prefix: string,
  queueName: string,
  name: string,
  timeoutMs: number,
) {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, queueOptions(connection, prefix));
  const events = new QueueEvents(queueName, {
    connection: connection.duplicate(),
    prefix: queueOptions(connection, prefix).prefix,
  });
  try {
    await events.waitUntilReady();
    const job = await queue.add(name, {}, { jobId: `fleet-${name}-${randomBytes(3).toString('hex')}` });
    return (await job.waitUntilFinished(events, timeoutMs)) as T;
  } finally {
    await events.close();
    await queue.close();
    await connection.quit();
  }
}

async function measured<T>(
  standin: AwsStandin,
  harness: Harness,
  label: string,
  run: () => Promise<T>,
): Promise<{ result: T; figures: RunFigures }> {
  await standin.resetStats();
  const { metrics } = harness.service;
  const calls0 = await counterTotal(metrics.awsCalls);
  const retries0 = await counterTotal(metrics.awsRetries);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await run();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const { accounts, perAccount, callsPerSecond } = harness.loaded.config.aws.concurrency;
  return {
    result,
    figures: {
      label,
      wallMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      standin: await standin.stats(),
      sdkCalls: (await counterTotal(metrics.awsCalls)) - calls0,
      sdkRetries: (await counterTotal(metrics.awsRetries)) - retries0,
      concurrency: { accounts, perAccount, callsPerSecond },
    },
  };
}

/** IAM calls of a run at the stand-in (throttled answers included: each is an attempt). */
function iamCalls(s: StandinStats): number {
  return sum(s.perAccount.filter((a) => a.account !== '999999999999').map((a) => a.calls));
}

/** The stand-in's own limit: every IAM call at 10/s per account, `accounts` accounts at once. */
function rateFloorMs(s: StandinStats, accountsAtOnce: number): number {
  const successful = iamCalls(s) - s.throttled;
  return (successful / (STANDIN_DEFAULTS.ratePerSecond * Math.min(accountsAtOnce, ACCOUNTS))) * 1000;
}

export async function fleetBench(): Promise<BenchResult> {
  const started = performance.now();
  const loadAtStart = os.loadavg()[0]!;
  const infra = await startInfra({ moto: false });
  const standin = await startAwsStandin({
    accounts: ACCOUNTS,
    usersPerAccount: USERS,
    activeRolesPerAccount: ACTIVE_PER_ACCOUNT,
    orphanRolesPerAccount: ORPHANS_PER_ACCOUNT,
  });
  const fake = await startFakeSlack();
  const saved = { ...process.env };
  // The bot's own credentials for the default chain; the stand-in reads the account from keys.
  process.env.AWS_ACCESS_KEY_ID = 'AKIABOTSTANDIN000000';
  process.env.AWS_SECRET_ACCESS_KEY = 'standin';
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ENDPOINT_URL = standin.url;
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  const prefix = `bench-fleet-${randomBytes(4).toString('hex')}`;
  const env: EnvOptions = {
    slackBotToken: 'xoxb-bench-fleet',
    slackSigningSecret: TEST_SIGNING_SECRET,
    hmacKey: TEST_HMAC_KEY,
    slackApiUrl: fake.apiUrl,
    redisUrl: infra.redisUrl,
    awsRegion: 'us-east-1',
    awsEndpointUrl: standin.url,
    configPath: 'fleet.yaml',
    port: 0,
    logLevel: 'silent',
  };
  const checks: Check[] = [];
  let harness: Harness | undefined;
  const redis = new Redis(infra.redisUrl, { maxRetriesPerRequest: null });
  try {
    const loaded = fleetConfig(prefix);
    harness = await startWorkerService(env, loaded);
    const defaults = loaded.config.aws.concurrency;

    // Set-up (not measured): the active grants as the bot stores them.
    const now = Date.now();
    const t0 = performance.now();
    await pool(
      Array.from({ length: ACCOUNTS * ACTIVE_PER_ACCOUNT }, (_, i) => i),
      32,
      async (i) => {
        await storeAsTheBot(
          harness!.service,
          prefix,
          activeRequest(Math.floor(i / ACTIVE_PER_ACCOUNT), i % ACTIVE_PER_ACCOUNT, now),
        );
      },
    );
    console.error(
      `  fleet: ${ACCOUNTS * ACTIVE_PER_ACCOUNT} active grants stored in ${ms(performance.now() - t0)} ms`,
    );

    // Organizations discovery, once; reconcile and the sweep read the tree from Redis after it.
    const directory = new OrganizationsAccountDirectory({
      organizations: new OrganizationsClient(
        clientConfig(
          { region: 'us-east-1', endpoint: standin.url, maxAttempts: 5 },
          { region: GLOBAL_REGION },
        ),
      ),
      redis,
      cacheKey: `${prefix}:aws:accounts`,
      cacheTtlSeconds: loaded.config.aws.organizations.cacheTtl,
      pageSize: loaded.config.aws.organizations.pageSize,
      staticAccounts: [],
    });
    await standin.resetStats();
    const d0 = performance.now();
    const discovered = await directory.listAccounts();
    const discovery = {
      ms: performance.now() - d0,
      accounts: discovered.length,
      calls: (await standin.stats()).calls,
    };
    console.error(
      `  fleet: ${discovery.accounts} accounts discovered in ${ms(discovery.ms)} ms (${discovery.calls} calls)`,
    );

    // Floor: the reconcile handler over the same accounts and requests, the engine answering at once.
    const noopEngine = {
      reconcile: async () => ({ orphaned: [], overdue: [], missing: [] }),
    } as unknown as GrantEngine;
    const n0 = performance.now();
    const noop = await runReconcile({
      requests: harness.service.requests,
      grants: noopEngine,
      accounts: directory,
      redis,
      redisPrefix: prefix,
      clock: { now: () => Date.now() },
      logger: createLogger({ level: 'silent' }),
      accountConcurrency: defaults.accounts,
    });
    const noopReconcileMs = performance.now() - n0;
    console.error(`  fleet: no-op reconcile pass over ${noop.accounts} accounts: ${ms(noopReconcileMs)} ms`);

    // 1. Reconcile with the default aws.concurrency.
    const reconcileA = await measured(standin, harness, 'default `aws.concurrency`', () =>
      runJob<ReconcileSummary>(
        infra.redisUrl,
        prefix,
        QueueName.reconcile,
        RECONCILE_JOB,
        RECONCILE_TIMEOUT_MS,
      ),
    );
    console.error(
      `  fleet: reconcile (default limits): ${ms(reconcileA.figures.wallMs)} ms, ${iamCalls(reconcileA.figures.standin)} IAM calls, ${reconcileA.figures.standin.throttled} throttled`,
    );
    const rolesAfterA = reconcileA.figures.standin.rolesLeft;

    // 2. The hygiene sweep: one `sweep` job, fanned out to one job per account.
    const hygieneQueue = harness.service.queues.get(QueueName.hygiene);
    const hygiene = await measured(standin, harness, 'default `aws.concurrency`', async () => {
      const fanOut = await runJob<{ accounts: number }>(
        infra.redisUrl,
        prefix,
        QueueName.hygiene,
        HygieneJob.sweep,
        60_000,
      );
      const done = await waitFor(
        async () => {
          const c = await hygieneQueue.getJobCounts(
            'completed',
            'failed',
            'active',
            'wait',
            'delayed',
            'prioritized',
          );
          return (c.completed ?? 0) + (c.failed ?? 0) >= fanOut.accounts + 1 && (c.active ?? 0) === 0
            ? c
            : undefined;
        },
        HYGIENE_TIMEOUT_MS,
        250,
      );
      return { fanOut, counts: done ?? (await hygieneQueue.getJobCounts()) };
    });
    // Account jobs BullMQ had to run more than once (an attempt failed and was retried).
    const accountJobs = (await hygieneQueue.getJobs(['completed', 'failed'], 0, -1)).filter(
      (j) => j.name === HygieneJob.sweepAccount,
    );
    const rerun = accountJobs.filter((j) => j.attemptsMade > 1 || (j.attemptsStarted ?? 0) > 1);
    const rerunReasons = [...new Set(rerun.map((j) => j.failedReason).filter(Boolean))].slice(0, 3);
    console.error(
      `  fleet: hygiene sweep: ${ms(hygiene.figures.wallMs)} ms, ${iamCalls(hygiene.figures.standin)} IAM calls, ${hygiene.figures.standin.throttled} throttled`,
    );
    const store = new HygieneStore(redis, prefix);
    const swept = { accounts: 0, users: 0, unusedKeys: 0, consoleWithoutMfa: 0 };
    for (let n = 0; n < ACCOUNTS; n++) {
      const f = await store.getFindings(fleetAccountId(n));
      if (!f) continue;
      swept.accounts++;
      swept.users += f.userCount;
      swept.unusedKeys += f.findings.filter((x) => x.kind === 'unused-key').length;
      swept.consoleWithoutMfa += f.findings.filter((x) => x.kind === 'console-without-mfa').length;
    }

    // Floor: the BullMQ fan-out of as many no-op jobs at the sweep's concurrency.
    const noopQueueName = `fleet-noop-${randomBytes(3).toString('hex')}`;
    const noopConnection = new Redis(infra.redisUrl, { maxRetriesPerRequest: null });
    const noopQueue = new Queue(noopQueueName, queueOptions(noopConnection, prefix));
    let finished = 0;
    const noopWorker = new Worker(noopQueueName, async () => undefined, {
      ...queueOptions(noopConnection.duplicate(), prefix),
      concurrency: defaults.accounts,
    });
    noopWorker.on('completed', () => finished++);
    const f0 = performance.now();
    await noopQueue.addBulk(Array.from({ length: ACCOUNTS }, (_, n) => ({ name: 'noop', data: { n } })));
    await waitFor(() => finished >= ACCOUNTS, 60_000, 10);
    const noopFanOutMs = performance.now() - f0;
    await noopWorker.close();
    await noopQueue.obliterate({ force: true });
    await noopQueue.close();
    await noopConnection.quit();
    console.error(`  fleet: no-op fan-out of ${ACCOUNTS} jobs: ${ms(noopFanOutMs)} ms`);
    await harness.stop();
    harness = undefined;

    // 3. Reconcile again with the per-account rate limit off: concurrency only, IAM throttles.
    await standin.reseed();
    const unpacedLoaded = fleetConfig(prefix, 0);
    harness = await startWorkerService(env, unpacedLoaded);
    const reconcileB = await measured(standin, harness, '`callsPerSecond: 0` (concurrency only)', () =>
      runJob<ReconcileSummary>(
        infra.redisUrl,
        prefix,
        QueueName.reconcile,
        RECONCILE_JOB,
        RECONCILE_TIMEOUT_MS,
      ),
    );
    console.error(
      `  fleet: reconcile (no rate limit): ${ms(reconcileB.figures.wallMs)} ms, ${iamCalls(reconcileB.figures.standin)} IAM calls, ${reconcileB.figures.standin.throttled} throttled`,
    );

    // Checks.
    const expectedOrphans = new Set(
      Array.from({ length: ACCOUNTS }, (_, n) =>
        Array.from({ length: ORPHANS_PER_ACCOUNT }, (_, k) => orphanRequestId(n, k)),
      ).flat(),
    );
    const wantLeft = (n: number) =>
      Array.from({ length: ACTIVE_PER_ACCOUNT }, (_, k) => `aws-access-${activeRequestId(n, k)}`).sort();
    for (const [run, rolesLeft] of [
      [reconcileA, rolesAfterA],
      [reconcileB, reconcileB.figures.standin.rolesLeft],
    ] as const) {
      const s = run.result;
      const removed = new Set(s.removedOrphans);
      const missed = [...expectedOrphans].filter((id) => !removed.has(id));
      const wrongAccounts = Array.from({ length: ACCOUNTS }, (_, n) => n).filter(
        (n) =>
          JSON.stringify([...(rolesLeft[fleetAccountId(n)] ?? [])].sort()) !== JSON.stringify(wantLeft(n)),
      );
      checks.push({
        what: `reconcile (${run.figures.label}) removes every orphaned role and no live grant, in every account`,
        ok:
          missed.length === 0 &&
          s.removedOrphans.length === expectedOrphans.size &&
          wrongAccounts.length === 0 &&
          s.revoked.length === 0 &&
          s.failed.length === 0 &&
          s.accounts === ACCOUNTS,
        detail: `${s.accounts} accounts, ${s.removedOrphans.length}/${expectedOrphans.size} orphans removed, ${wrongAccounts.length} accounts not left with exactly their live grants, ${s.revoked.length} grants revoked, ${s.failed.length} failed`,
      });
      checks.push({
        what: `reconcile (${run.figures.label}) of ${ACCOUNTS} accounts within 60 s`,
        ok: run.figures.wallMs <= RECONCILE_GOAL_MS,
        detail: `${(run.figures.wallMs / 1000).toFixed(1)} s`,
      });
    }
    const perAccountMax = (s: StandinStats) =>
      Math.max(0, ...s.perAccount.filter((a) => a.account !== '999999999999').map((a) => a.maxInFlight));
    for (const run of [reconcileA.figures, hygiene.figures, reconcileB.figures]) {
      checks.push({
        what: `IAM calls in flight per account never above \`perAccount\` (${run.concurrency.perAccount}) (${run === hygiene.figures ? 'hygiene' : 'reconcile'}, ${run.label})`,
        ok: perAccountMax(run.standin) <= run.concurrency.perAccount,
        detail: `most seen at the stand-in: ${perAccountMax(run.standin)}`,
      });
    }
    const want = expectedFindings(USERS);
    checks.push({
      what: `hygiene sweeps every account: ${ACCOUNTS} × ${USERS} users, every unused key and console user without MFA found`,
      ok:
        swept.accounts === ACCOUNTS &&
        swept.users === ACCOUNTS * USERS &&
        swept.unusedKeys === ACCOUNTS * want.unusedKeys &&
        swept.consoleWithoutMfa === ACCOUNTS * want.consoleWithoutMfa &&
        (hygiene.result.counts.failed ?? 0) === 0,
      detail: `${swept.accounts} accounts, ${swept.users} users, unused keys ${swept.unusedKeys}/${ACCOUNTS * want.unusedKeys}, console without MFA ${swept.consoleWithoutMfa}/${ACCOUNTS * want.consoleWithoutMfa}, ${hygiene.result.counts.failed ?? 0} failed jobs`,
    });
    checks.push({
      what: `hygiene of ${ACCOUNTS} accounts × ${USERS} users within 10 minutes`,
      ok: hygiene.figures.wallMs <= HYGIENE_GOAL_MS,
      detail: `${(hygiene.figures.wallMs / 1000).toFixed(1)} s`,
    });
    for (const run of [reconcileA.figures, hygiene.figures, reconcileB.figures]) {
      const calls = iamCalls(run.standin);
      const ratio = calls ? run.sdkRetries / calls : 0;
      checks.push({
        what: `no retry storm (${run === hygiene.figures ? 'hygiene' : 'reconcile'}, ${run.label}): SDK retries ≤ 25 % of IAM attempts, each throttle retried at most once on average`,
        ok: ratio <= 0.25 && run.sdkRetries <= run.standin.throttled + 10 && run.standin.invalid === 0,
        detail: `${run.sdkRetries} retries, ${run.standin.throttled} throttled of ${calls} attempts (${(ratio * 100).toFixed(1)} %), ${run.standin.invalid} unknown calls`,
      });
    }

    const row = (kind: string, f: RunFigures, goalMs: number, floorMs: number, extra: string) => {
      const calls = iamCalls(f.standin);
      return [
        kind,
        f.label,
        `${f.concurrency.accounts} / ${f.concurrency.perAccount} / ${f.concurrency.callsPerSecond || 'off'}`,
        (f.wallMs / 1000).toFixed(1),
        `${(goalMs / 1000).toFixed(0)} (${(f.wallMs / goalMs).toFixed(2)}×)`,
        `${(floorMs / 1000).toFixed(1)} (${(f.wallMs / floorMs).toFixed(2)}×)`,
        calls,
        f.standin.throttled,
        f.sdkRetries,
        `${((f.sdkRetries / Math.max(1, calls)) * 100).toFixed(1)} %`,
        Math.max(
          0,
          ...f.standin.perAccount.filter((a) => a.account !== '999999999999').map((a) => a.maxInFlight),
        ),
        `${(f.cpuMs / 1000).toFixed(1)} (${ms(f.cpuMs / ACCOUNTS)})`,
        extra,
      ];
    };
    const reconcileFloor = (f: RunFigures) => rateFloorMs(f.standin, f.concurrency.accounts);
    const callText = (s: StandinStats) =>
      Object.entries(s.byAction)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
    return benchResult({
      name: 'fleet',
      title: 'Fleet: reconcile and hygiene across 1,000 accounts',
      started,
      sections: [
        `${ACCOUNTS} accounts (Organizations: ${discovery.accounts} discovered in ${(discovery.ms / 1000).toFixed(1)} s, ${discovery.calls} calls, cached in Redis before the runs), ${ACCOUNTS * ACTIVE_PER_ACCOUNT} active grants and ${ACCOUNTS * ORPHANS_PER_ACCOUNT} orphaned roles, ${USERS} IAM users per account; stand-in: ${STANDIN_DEFAULTS.latencyMs} ms per call, IAM throttled above ${STANDIN_DEFAULTS.ratePerSecond} calls/s per account. Load average at the start: ${loadAtStart.toFixed(2)} (2 cores shared with other work). Floor: the stand-in's limit, IAM calls answered ÷ (${STANDIN_DEFAULTS.ratePerSecond} calls/s × accounts at once).`,
        '',
        table(
          [
            'job',
            'run',
            'accounts at once / per-account in flight / calls/s',
            'time s',
            'goal s (ratio)',
            'floor s (ratio)',
            'IAM attempts',
            'throttled',
            'SDK retries',
            'retries/attempts',
            'max in flight in one account',
            'bot CPU s (ms/account)',
            'result',
          ],
          [
            row(
              'reconcile',
              reconcileA.figures,
              RECONCILE_GOAL_MS,
              reconcileFloor(reconcileA.figures),
              `${reconcileA.result.removedOrphans.length} orphans removed, ${reconcileA.result.failed.length} failed`,
            ),
            row(
              'reconcile',
              reconcileB.figures,
              RECONCILE_GOAL_MS,
              reconcileFloor(reconcileB.figures),
              `${reconcileB.result.removedOrphans.length} orphans removed, ${reconcileB.result.failed.length} failed`,
            ),
            row(
              'hygiene sweep',
              hygiene.figures,
              HYGIENE_GOAL_MS,
              reconcileFloor(hygiene.figures),
              `${swept.accounts} accounts swept, ${swept.users} users, ${hygiene.result.counts.failed ?? 0} failed, ${rerun.length} account jobs run more than once${rerunReasons.length ? ` (${rerunReasons.join('; ')})` : ''}`,
            ),
          ],
        ),
        '',
        table(
          ['no-op floor (same run)', 'time s', 'measured ÷ floor'],
          [
            [
              `reconcile handler over ${noop.accounts} accounts, engine answering at once`,
              (noopReconcileMs / 1000).toFixed(2),
              `${(reconcileA.figures.wallMs / noopReconcileMs).toFixed(1)}× (default run)`,
            ],
            [
              `the bot's own CPU time during the sweep (one Node.js thread does the work)`,
              (hygiene.figures.cpuMs / 1000).toFixed(1),
              `${(hygiene.figures.wallMs / hygiene.figures.cpuMs).toFixed(1)}× (sweep)`,
            ],
            [
              `the bot's own CPU time during reconcile (default run)`,
              (reconcileA.figures.cpuMs / 1000).toFixed(1),
              `${(reconcileA.figures.wallMs / reconcileA.figures.cpuMs).toFixed(1)}× (default run)`,
            ],
            [
              `BullMQ fan-out: ${ACCOUNTS} no-op jobs at concurrency ${defaults.accounts}`,
              (noopFanOutMs / 1000).toFixed(2),
              `${(hygiene.figures.wallMs / noopFanOutMs).toFixed(1)}× (sweep)`,
            ],
          ],
        ),
        '',
        `IAM calls by action — reconcile (default): ${callText(reconcileA.figures.standin)}; hygiene: ${callText(hygiene.figures.standin)}.`,
      ],
      checks,
      data: {
        accounts: ACCOUNTS,
        users: USERS,
        loadAtStart,
        discovery,
        noopReconcileMs,
        noopFanOutMs,
        runs: [reconcileA.figures, hygiene.figures, reconcileB.figures].map(({ standin: s, ...f }) => ({
          ...f,
          standin: { calls: s.calls, throttled: s.throttled, invalid: s.invalid, byAction: s.byAction },
        })),
        swept,
        hygieneJobsRunTwice: rerun.length,
        rerunReasons,
      },
    });
  } finally {
    await harness?.stop().catch(() => undefined);
    await redis.quit().catch(() => redis.disconnect());
    await fake.stop();
    await standin.stop();
    await infra.stop();
    for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'AWS_ENDPOINT_URL']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
}
