/**
 * `npm run chaos [-- --profile full|ci] [--out FILE]`: the real service (one web and two worker
 * processes, each `startService` with its own skewed clock) against moto and a Sentinel-managed
 * Redis (primary + replica with AOF, 3 Sentinels; services, checks and the CLI use `redis.sentinel`) on
 * loopback, driven by signed Slack slash commands that an auto-approve rule turns into real
 * grants (the real engine and AWS SDK, through a fault proxy in front of moto), while faults are
 * injected on a fixed timeline. At the end, after a reconcile run that started once everything
 * had settled, it checks the invariants from the sources of truth (moto, Redis, the audit
 * stream, `aws-access-bot audit verify`), prints the fault table and the counts, and exits 1 on
 * any missed revocation, orphaned role, double grant or lost request, or a broken audit chain.
 *
 * Bounded: every wait has a deadline; everything started is stopped in `finally`, on SIGINT /
 * SIGTERM, and (SIGKILL of each process group) on exit.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import YAML from 'yaml';
import { freePort } from '../../test/support/local-servers.js';
import { startFakeSlack } from '../../test/support/fake-slack.js';
import { TEST_HMAC_KEY, TEST_SIGNING_SECRET } from '../../test/support/slack-request.js';
import { machineInfo } from '../support/infra.js';
import { ResponseCollector, sendCommand } from '../support/slack-load.js';
import {
  auditEvents,
  auditVerify,
  evaluate,
  motoRoles,
  storedRequests,
  type Invariants,
  type SentCommand,
} from './checks.js';
import { awsAction, awsFaults, awsService, FaultProxy, slackFaults } from './fault-proxy.js';
import {
  ask,
  killAllNow,
  RedisSentinelSet,
  SENTINEL_DOWN_AFTER_MS,
  SENTINEL_NAME,
  ServiceProcess,
  startMoto,
} from './processes.js';
import { createRedis } from '../../src/store/redis-connection.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PREFIX = 'chaos';
const SANDBOX = '222222222222';
const PRODUCTION = '111111111111';
const TEMPLATE = 's3-data-reader';
const REASON_PREFIX = 'chaos ';
const SKEW_MS = 5000;

interface Profile {
  name: 'full' | 'ci';
  grants: number;
  /** The load phase: commands spread evenly over it. */
  loadSeconds: number;
  minGrantSeconds: number;
  maxGrantSeconds: number;
  requesters: number;
  /** 6-field cron of the shortened reconcile. */
  reconcileCron: string;
  reconcileSeconds: number;
  /** When (fraction of the load phase) each fault happens. */
  workerKills: number[];
  /** The planned failover (`SENTINEL FAILOVER`); the restart of the then primary follows it. */
  sentinelAt: number;
  /** Restart of the current primary; waits until the failover has settled if that is later. */
  redisRestartAt: number;
  slack429: [number, number];
  slack500: [number, number];
  /** Revoke jobs deleted: how many, spread over the load phase. */
  revokeJobDeletes: number;
}

const PROFILES: Record<Profile['name'], Profile> = {
  full: {
    name: 'full',
    grants: 220,
    loadSeconds: 270,
    minGrantSeconds: 20,
    maxGrantSeconds: 60,
    requesters: 20,
    reconcileCron: '*/20 * * * * *',
    reconcileSeconds: 20,
    workerKills: [0.35, 0.75],
    sentinelAt: 0.45,
    redisRestartAt: 0.6,
    slack429: [0.15, 0.3],
    slack500: [0.62, 0.72],
    revokeJobDeletes: 20,
  },
  ci: {
    name: 'ci',
    grants: 60,
    loadSeconds: 70,
    minGrantSeconds: 20,
    maxGrantSeconds: 35,
    requesters: 10,
    reconcileCron: '*/15 * * * * *',
    reconcileSeconds: 15,
    workerKills: [0.55],
    sentinelAt: 0.4,
    redisRestartAt: 0.6,
    slack429: [0.1, 0.3],
    slack500: [0.65, 0.8],
    revokeJobDeletes: 6,
  },
};

/** One row of the fault table. */
interface FaultRow {
  fault: string;
  count: number;
  detail: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const say = (text: string) => console.error(`[chaos ${elapsed()}] ${text}`);

async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 1000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await sleep(everyMs);
  }
  say(`gave up waiting: ${what} (${Math.round(timeoutMs / 1000)} s)`);
  return false;
}

function requesterId(i: number): string {
  return `U0CHAOS${String(i).padStart(3, '0')}`;
}

/** The test config with the chaos rule first, the chaos requesters mapped, reconcile shortened. */
function writeConfig(dir: string, profile: Profile, sentinel: RedisSentinelSet['config']): string {
  // The YAML as written (durations as text such as 5s), edited and written back for the service.
  const base = YAML.parse(readFileSync(path.join(ROOT, 'test/fixtures/config.yaml'), 'utf8')) as {
    durations?: Record<string, unknown>;
    identities: { map: Record<string, unknown> };
    approval: { rules: unknown[] };
    [key: string]: unknown;
  };
  base.redis = { prefix: PREFIX, sentinel };
  base.templates = { directory: path.join(ROOT, 'templates') };
  base.durations = { ...base.durations, min: '5s', expiryWarning: '10s', provisioningTimeout: '30s' };
  base.requests = { maxOpenPerRequester: 20 };
  base.schedules = { reconcile: profile.reconcileCron };
  for (let i = 0; i < profile.requesters; i++) {
    base.identities.map[requesterId(i)] = {
      principal: `arn:aws:iam::123456789012:user/chaos${i}`,
      email: `chaos${i}@example.com`,
    };
  }
  base.approval.rules.unshift({
    name: 'chaos-sandbox-auto',
    match: { accounts: ['sandbox'], templates: [TEMPLATE] },
    autoApprove: true,
    reason: { required: true },
  });
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, YAML.stringify(base));
  return file;
}

/** Outage of a restart of the primary: well under Sentinel's down-after, so it stays a restart. */
const RESTART_DOWN_MS = 1000;

/**
 * The planned primary failover: wait until the set is settled, `SENTINEL FAILOVER <name>` on one
 * Sentinel, wait until a Sentinel names the new primary, then until all three agree and the old
 * primary replicates from it (so the restart that follows hits a settled set).
 */
async function sentinelFailover(
  set: RedisSentinelSet,
  loadStart: number,
): Promise<{ done: boolean; detail: string }> {
  const before = await set.waitSettled(30_000);
  const started = Date.now();
  const reply = await ask(set.sentinels[0]!, 'SENTINEL', 'FAILOVER', SENTINEL_NAME);
  if (reply !== 'OK') return { done: false, detail: `SENTINEL FAILOVER answered ${String(reply)}` };
  let named: number | undefined;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const ports = await set.primaryPorts();
    if (ports.some((p) => p !== undefined && p !== before.port)) {
      named = Date.now();
      break;
    }
    await sleep(50);
  }
  if (named === undefined)
    return { done: false, detail: `no Sentinel named a new primary within 30 s (primary :${before.port})` };
  const after = await set.waitSettled(60_000);
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return {
    done: after.port !== before.port,
    detail:
      `\`SENTINEL FAILOVER ${SENTINEL_NAME}\` at ${s(started - loadStart)}: primary :${before.port} → :${after.port}, ` +
      `named by a Sentinel after ${s(named - started)}, settled (3 Sentinels agree, old primary in sync as replica) after ${s(Date.now() - started)}`,
  };
}

function formatTable(header: string[], rows: Array<Array<string | number>>): string {
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      profile: { type: 'string', default: 'full' },
      out: { type: 'string' },
      keep: { type: 'boolean' },
    },
    strict: true,
  });
  const profile = PROFILES[values.profile as Profile['name']];
  if (!profile) {
    console.error(`--profile must be full or ci, not "${values.profile}"`);
    return 2;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'aws-access-chaos-'));
  say(
    `profile ${profile.name}: ${profile.grants} grants of ${profile.minGrantSeconds}-${profile.maxGrantSeconds} s over ${profile.loadSeconds} s; logs in ${dir}`,
  );
  const machine = machineInfo();
  const cleanups: Array<{ what: string; run: () => Promise<unknown> }> = [];
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    say(`${signal}: stopping everything`);
    void runCleanups().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', killAllNow);
  let cleaned = false;
  const runCleanups = async () => {
    if (cleaned) return;
    cleaned = true;
    for (const c of cleanups.reverse()) {
      await Promise.race([c.run().catch(() => undefined), sleep(20_000)]);
    }
    if (!values.keep && !process.exitCode) rmSync(dir, { recursive: true, force: true });
  };

  const faults: FaultRow[] = [];
  const sent: SentCommand[] = [];
  let result: Invariants | undefined;
  try {
    // Infrastructure.
    const redisSet = await RedisSentinelSet.start(dir, freePort);
    cleanups.push({ what: 'redis (primary, replica, 3 sentinels)', run: () => redisSet.stop() });
    say(
      `redis: primary :${redisSet.nodes[0]!.port}, replica :${redisSet.nodes[1]!.port}, sentinels ${redisSet.sentinels.map((p) => `:${p}`).join(' ')}`,
    );
    // Credentials only (none): with redis.sentinel the primary is whichever the Sentinels name.
    const redisUrl = redisSet.nodes[0]!.url;
    const redisTarget = { url: redisUrl, sentinel: redisSet.config };
    const moto = await startMoto(await freePort(), path.join(dir, 'moto.log'));
    cleanups.push({ what: 'moto_server', run: () => moto.stop() });
    let awsFaultsOn = false;
    // Every IAM/STS call through the proxy, with its fault and moto's status: the fault sequence
    // behind any finding is in aws-proxy.log.
    const proxyLog = path.join(dir, 'aws-proxy.log');
    const awsProxy = await new FaultProxy(
      moto.url,
      awsFaults({ enabled: () => awsFaultsOn, rate: 0.3, delayRate: 0.05 }),
      (request, fault, status) => {
        const params = new URLSearchParams(request.body.toString('utf8'));
        const subject = params.get('RoleName') ?? params.get('RoleArn') ?? params.get('PolicyArn') ?? '';
        const line = `${new Date().toISOString()} ${awsService(request) ?? '?'} ${awsAction(request) ?? request.method} ${subject} ${status === undefined ? `-> ${fault?.label ?? 'forward'}` : `<- moto ${status}${fault ? ` (${fault.label})` : ''}`}`;
        appendFileSync(proxyLog, `${line}\n`);
      },
    ).start();
    cleanups.push({ what: 'aws fault proxy', run: () => awsProxy.stop() });
    const fake = await startFakeSlack();
    cleanups.push({ what: 'fake Slack', run: () => fake.stop() });
    for (let i = 0; i < profile.requesters; i++) {
      fake.addUser({ id: requesterId(i), email: `chaos${i}@example.com`, real_name: `Chaos ${i}` });
    }
    for (const id of [
      'U0REQUESTER',
      'U0APPROVER1',
      'U0APPROVER2',
      'U0PROD1',
      'U0PROD2',
      'U0PROD3',
      'U0ADMIN',
    ])
      fake.addUser({ id });
    fake.setUsergroup('S0PRODAPPR', ['U0PROD1', 'U0PROD2', 'U0PROD3']).setUsergroup('S0ADMINS', ['U0ADMIN']);
    let slackMode: 'off' | 'rate-limited' | 'erroring' = 'off';
    const slackProxy = await new FaultProxy(
      fake.origin,
      slackFaults({ window: () => slackMode, rate: 0.5, retryAfterSeconds: 2 }),
    ).start();
    cleanups.push({ what: 'slack fault proxy', run: () => slackProxy.stop() });
    const responses = await new ResponseCollector().start();
    cleanups.push({ what: 'response collector', run: () => responses.stop() });

    const configFile = writeConfig(dir, profile, redisSet.config);
    const serviceEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_OPTIONS: process.env.NODE_OPTIONS,
      SLACK_BOT_TOKEN: 'xoxb-chaos-0000-bot-token',
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_API_URL: `${slackProxy.origin}/api/`,
      REDIS_URL: redisUrl,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: awsProxy.origin,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_ACCESS_CONFIG: configFile,
      AWS_ACCESS_HMAC_KEY: TEST_HMAC_KEY,
      LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? 'info',
    };
    const web = new ServiceProcess({
      name: 'web',
      role: 'web',
      clockOffsetMs: 0,
      port: await freePort(),
      env: serviceEnv,
      logFile: path.join(dir, 'web.log'),
    });
    const workers = [
      new ServiceProcess({
        name: 'worker-a',
        role: 'worker',
        clockOffsetMs: +SKEW_MS,
        port: await freePort(),
        env: serviceEnv,
        logFile: path.join(dir, 'worker-a.log'),
      }),
      new ServiceProcess({
        name: 'worker-b',
        role: 'worker',
        clockOffsetMs: -SKEW_MS,
        port: await freePort(),
        env: serviceEnv,
        logFile: path.join(dir, 'worker-b.log'),
      }),
    ];
    for (const s of [web, ...workers]) cleanups.push({ what: s.spec.name, run: () => s.stop() });
    await Promise.all([web.start(), ...workers.map((w) => w.start())]);
    say(`service up: web ${web.baseUrl} (clock +0 s), worker-a (+5 s), worker-b (−5 s)`);

    // Through the Sentinels (and the service's failover fence), like the services and the CLI.
    const check = createRedis(redisTarget, 'client', {
      maxRetriesPerRequest: null,
      retryStrategy: () => 200,
    });
    check.on('error', () => undefined);
    cleanups.push({ what: 'check redis client', run: async () => check.disconnect() });
    const grantsQueue = new Queue('grants', { connection: check, prefix: `${PREFIX}:bull` });
    const reconcileQueue = new Queue('reconcile', { connection: check, prefix: `${PREFIX}:bull` });
    // Connection errors while the primary restarts are expected; BullMQ would print each one.
    for (const q of [grantsQueue, reconcileQueue]) q.on('error', () => undefined);
    cleanups.push({ what: 'queues', run: () => Promise.all([grantsQueue.close(), reconcileQueue.close()]) });

    // The timeline.
    const L = profile.loadSeconds * 1000;
    const loadStart = Date.now();
    awsFaultsOn = true;
    const at = (fraction: number) => loadStart + fraction * L;
    const until = async (when: number) => {
      const left = when - Date.now();
      if (left > 0) await sleep(left);
    };
    const events: Promise<void>[] = [];
    const timeline = (fraction: number, what: string, fn: () => Promise<void>) => {
      events.push(
        (async () => {
          await until(at(fraction));
          if (interrupted) return;
          say(what);
          await fn().catch((error: unknown) => say(`${what} failed: ${String(error)}`));
        })(),
      );
    };

    // Slack windows.
    const slackWindow = (name: string, mode: 'rate-limited' | 'erroring', [from, to]: [number, number]) => {
      timeline(from, `Slack Web API: ${name} on`, async () => {
        slackMode = mode;
        await until(at(to));
        slackMode = 'off';
        say(`Slack Web API: ${name} off`);
      });
    };
    slackWindow('429 Retry-After 2 s for half the calls', 'rate-limited', profile.slack429);
    slackWindow('500 for half the calls', 'erroring', profile.slack500);

    // Redis: the planned failover first, then (once it has settled) a restart of the new primary
    // (the promoted replica) with its AOF, on its port, down for less than Sentinel's down-after.
    let sentinel = { done: false, detail: '' };
    let failoverEnded!: () => void;
    const failoverOver = new Promise<void>((resolve) => (failoverEnded = resolve));
    timeline(profile.sentinelAt, 'Redis: primary failover (SENTINEL FAILOVER)', async () => {
      try {
        sentinel = await sentinelFailover(redisSet, loadStart);
        say(sentinel.detail);
      } finally {
        failoverEnded();
      }
    });
    const redisDetail: string[] = [];
    let autoFailovers = 0;
    timeline(
      profile.redisRestartAt,
      'Redis: restart of the current primary (SIGTERM, AOF reloaded)',
      async () => {
        await failoverOver;
        const primary = await redisSet.waitSettled(30_000);
        const started = Date.now();
        await primary.restart(RESTART_DOWN_MS);
        const back = Date.now();
        const after = await redisSet.waitSettled(60_000);
        if (after.port !== primary.port) autoFailovers += 1;
        redisDetail.push(
          `primary :${primary.port} at ${((started - loadStart) / 1000).toFixed(0)} s, answering again after ${((back - started) / 1000).toFixed(1)} s (down-after ${SENTINEL_DOWN_AFTER_MS / 1000} s), ` +
            (after.port === primary.port
              ? `still the primary, replica back in sync after ${((Date.now() - started) / 1000).toFixed(1)} s`
              : `Sentinel failed over to :${after.port} meanwhile`),
        );
        say(redisDetail[redisDetail.length - 1]!);
      },
    );

    // Worker SIGKILLs, alternating, each restarted 5 s later.
    const killDetail: string[] = [];
    profile.workerKills.forEach((fraction, i) => {
      const worker = workers[i % workers.length]!;
      timeline(fraction, `SIGKILL ${worker.spec.name}`, async () => {
        // In the middle of revokes: wait (at most 15 s) for a grants-queue job being worked on.
        const busyBy = Date.now() + 15_000;
        while (Date.now() < busyBy && (await grantsQueue.getActiveCount().catch(() => 0)) === 0) {
          await sleep(100);
        }
        const [active, delayed] = await Promise.all([
          grantsQueue.getActiveCount(),
          grantsQueue.getDelayedCount(),
        ]);
        const pid = worker.pid;
        await worker.kill();
        await sleep(5000);
        await worker.start();
        killDetail.push(
          `${worker.spec.name} (pid ${pid}) at ${((Date.now() - loadStart) / 1000 - 5).toFixed(0)} s with ${active} grants-queue jobs running, ${delayed} delayed; restarted after 5 s`,
        );
        say(`${worker.spec.name} restarted`);
      });
    });

    // Revoke jobs deleted at random.
    const deletedJobs: string[] = [];
    for (let i = 0; i < profile.revokeJobDeletes; i++) {
      const fraction = 0.1 + (0.8 * (i + Math.random())) / profile.revokeJobDeletes;
      events.push(
        (async () => {
          await until(at(fraction));
          if (interrupted) return;
          const delayed = (await grantsQueue.getDelayed(0, 500).catch(() => [])).filter((j) =>
            j.id?.startsWith('revoke-'),
          );
          const victim = delayed[Math.floor(Math.random() * delayed.length)];
          if (!victim?.id) return;
          // Job.remove refuses a locked job; a delayed one is not locked.
          if (
            await victim.remove().then(
              () => true,
              () => false,
            )
          )
            deletedJobs.push(victim.id);
        })(),
      );
    }

    // The load: commands spread evenly; requesters round-robin.
    const pending: Promise<void>[] = [];
    for (let i = 0; i < profile.grants; i++) {
      await until(loadStart + (i * L) / profile.grants);
      if (interrupted) break;
      const durationSeconds =
        profile.minGrantSeconds +
        Math.floor(Math.random() * (profile.maxGrantSeconds - profile.minGrantSeconds + 1));
      const cmd: SentCommand = {
        tag: `c${i}`,
        requester: requesterId(i % profile.requesters),
        durationSeconds,
        sentAt: Date.now(),
        replies: [],
      };
      sent.push(cmd);
      pending.push(
        sendCommand(
          web.baseUrl,
          `sbx ${TEMPLATE} ${durationSeconds}s ${REASON_PREFIX}${cmd.tag}`,
          responses.url(cmd.tag),
          cmd.requester,
        ).then(
          (r) => {
            cmd.status = r.status;
          },
          (error: unknown) => {
            cmd.error = String(error);
          },
        ),
      );
      if (i % 25 === 0) say(`sent ${i + 1}/${profile.grants} commands`);
    }
    await Promise.all(pending);
    await Promise.all(events);
    const lastEnd = Math.max(...sent.map((c) => c.sentAt + c.durationSeconds * 1000));
    say(
      `load sent; grants end by ${Math.round((lastEnd - Date.now()) / 1000)} s from now; AWS faults stay on until then`,
    );
    await until(lastEnd);
    awsFaultsOn = false;
    slackMode = 'off';
    say('AWS faults off; waiting for every request to reach a final state');
    const settled = await waitUntil(
      'every request final',
      async () => {
        const requests = await storedRequests(check, PREFIX);
        return requests.every((r) => !['pending', 'approved', 'active', 'revoke-failed'].includes(r.state));
      },
      120_000,
      2000,
    );
    // One reconcile interval: a reconcile run that started after everything settled, finished.
    const settledAt = Date.now();
    say(`${settled ? 'settled' : 'not settled'}; waiting for a reconcile run that starts after now`);
    await waitUntil(
      'a reconcile run after settling',
      async () => {
        const done = await reconcileQueue.getCompleted(0, 20);
        return done.some((j) => (j.processedOn ?? 0) > settledAt && j.finishedOn);
      },
      profile.reconcileSeconds * 3000 + 30_000,
      1000,
    );
    for (const r of responses.byId.values()) {
      for (const reply of r) sent.find((c) => c.tag === reply.id)?.replies.push(reply.text);
    }

    // The sources of truth.
    const roles = [...(await motoRoles(moto.url, SANDBOX)), ...(await motoRoles(moto.url, PRODUCTION))];
    const requests = await storedRequests(check, PREFIX);
    const audit = await auditEvents(check, PREFIX);
    const verify = await auditVerify({ ...serviceEnv, AWS_ENDPOINT_URL: moto.url, LOG_LEVEL: 'silent' });
    result = evaluate({
      sent,
      requests,
      events: audit,
      roles,
      verify,
      reasonPrefix: REASON_PREFIX,
      maxSkewMs: 2 * SKEW_MS,
    });

    // The fault table.
    for (const [label, count] of [...awsProxy.injected].sort())
      faults.push({ fault: `AWS ${label}`, count, detail: 'fault proxy in front of moto' });
    faults.push({
      fault: 'AWS calls forwarded to moto',
      count: awsProxy.forwarded,
      detail: 'IAM, STS and S3 through the proxy',
    });
    for (const [label, count] of [...slackProxy.injected].sort())
      faults.push({ fault: label, count, detail: 'fault proxy in front of the fake Web API' });
    faults.push({
      fault: 'Redis restart of the primary (AOF on)',
      count: redisSet.nodes.reduce((n, node) => n + node.restarts, 0),
      detail: redisDetail.join('; '),
    });
    faults.push({
      fault: 'Redis primary failover (Sentinel)',
      count: sentinel.done ? 1 : 0,
      detail: sentinel.detail,
    });
    if (autoFailovers)
      faults.push({
        fault: 'Redis failover by Sentinel itself (unplanned)',
        count: autoFailovers,
        detail: 'the restart outlasted down-after-milliseconds',
      });
    faults.push({
      fault: 'worker SIGKILL + restart',
      count: killDetail.length,
      detail: killDetail.join('; '),
    });
    faults.push({ fault: 'revoke job deleted', count: deletedJobs.length, detail: deletedJobs.join(' ') });
    faults.push({ fault: 'clock skew', count: 3, detail: 'web +0 s, worker-a +5 s, worker-b −5 s' });

    const grantCalls = sent.length;
    const rows: Array<[string, string | number]> = [
      ['slash commands sent', grantCalls],
      ['refused at the door (user told, or HTTP error)', result.refusedAtDoor],
      ['told "nothing was changed" although the request exists', result.misleadingReplies.length],
      ['requests in Redis', result.requests],
      [
        '… by state',
        Object.entries(result.states)
          .map(([s, n]) => `${s} ${n}`)
          .join(', '),
      ],
      ['granted (a `grant` audit event)', result.granted],
      [
        'grants that failed and whose rollback also failed (revoke-failed, then revoked)',
        result.rollbackFailed,
      ],
      ['`/aws-access/` roles left in moto', result.rolesLeft],
      ['failed grants whose role reconcile removed later (info)', result.failedGrantRolesLeft.length],
      ['revoked more than the skew early (info)', result.revokedEarly.length],
      ['**missed revocations**', result.missedRevocations.length],
      ['**orphaned roles**', result.orphanedRoles.length],
      ['**double grants**', result.doubleGrants.length],
      ['**lost requests**', result.lostRequests.length],
      [
        '**audit verify**',
        result.auditVerify.code === 0
          ? `exit 0 (${result.auditVerify.output.split('\n')[0]})`
          : `exit ${result.auditVerify.code}`,
      ],
    ];
    const duration = (Date.now() - t0) / 1000;
    const report = [
      `### Chaos run, profile \`${profile.name}\``,
      '',
      `${machine.date}, ${machine.nproc} cores (${machine.cpu}), load average ${machine.loadAverage} at start, Node ${machine.node}, redis ${machine.redis}, moto ${machine.moto}. ` +
        `${profile.grants} grants of ${profile.minGrantSeconds}–${profile.maxGrantSeconds} s over ${profile.loadSeconds} s, ${profile.requesters} requesters, reconcile every ${profile.reconcileSeconds} s; run took ${duration.toFixed(0)} s.`,
      '',
      formatTable(
        ['fault injected', 'count', 'detail'],
        faults.map((f) => [f.fault, f.count, f.detail || '–']),
      ),
      '',
      formatTable(['invariant', 'value'], rows),
    ].join('\n');
    console.log(report);
    const details: Array<[string, string[]]> = [
      ['missed revocations', result.missedRevocations],
      ['orphaned roles', result.orphanedRoles],
      ['double grants', result.doubleGrants],
      ['lost requests', result.lostRequests],
      ['revoked early', result.revokedEarly],
      ['misleading replies', result.misleadingReplies],
      ['failed grants whose role reconcile removed', result.failedGrantRolesLeft],
    ];
    for (const [what, list] of details) {
      if (list.length)
        console.log(
          `\n${what}:\n${list
            .slice(0, 50)
            .map((l) => `  - ${l}`)
            .join('\n')}`,
        );
    }
    if (result.auditVerify.code !== 0) console.log(`\naudit verify:\n${result.auditVerify.output}`);
    writeFileSync(
      path.join(dir, 'result.json'),
      JSON.stringify({ profile, faults, result, duration, machine, sent }, null, 2),
    );
    if (values.out) writeFileSync(values.out, `${report}\n`);
    const failed =
      result.missedRevocations.length +
        result.orphanedRoles.length +
        result.doubleGrants.length +
        result.lostRequests.length >
        0 ||
      result.auditVerify.code !== 0 ||
      !settled;
    if (failed) {
      console.log(`\nCHAOS FAILED; logs kept in ${dir}`);
      process.exitCode = 1;
      return 1;
    }
    console.log(`\nchaos ${profile.name}: all invariants hold (${duration.toFixed(0)} s)`);
    return 0;
  } catch (error) {
    console.error(
      `chaos run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\nlogs kept in ${dir}`,
    );
    process.exitCode = 1;
    return 1;
  } finally {
    await runCleanups();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
