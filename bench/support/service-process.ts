/**
 * The service under test, in its own Node process so the load generator (and the fake Slack it
 * hosts) does not share an event loop with it: `startService` from src/main.ts with the real Bolt
 * HTTP receiver on loopback, real Redis, and either the recording grant engine from test/support
 * or the real AWS engine on moto. Driven over IPC by service-client.ts.
 */
import { systemClock } from '../../src/clock.js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createAwsServices } from '../../src/aws/create-aws-services.js';
import type { EnvOptions } from '../../src/config/env.js';
import type { AppConfig, ApprovalRuleConfig } from '../../src/config/schema.js';
import type { GrantEngine } from '../../src/domain/ports.js';
import { staticTemplateCatalog } from '../../src/domain/static-catalogs.js';
import { createLogger } from '../../src/logger.js';
import { startService, type RunningService, type ServiceAdapters } from '../../src/main.js';
import { createRedis } from '../../src/store/redis-connection.js';
import { RecordingGrantEngine } from '../../test/support/recording-grant-engine.js';
import {
  ThrottledGrantEngine,
  type ThrottledEngineCounts,
} from '../../test/support/throttled-grant-engine.js';
import type { RevocationCounts } from '../../src/jobs/revocation-limiter.js';
import { TEST_HMAC_KEY, TEST_SIGNING_SECRET } from '../../test/support/slack-request.js';
import { TEST_TEMPLATES } from '../../test/support/test-templates.js';
import { benchConfig } from './config.js';

export const BENCH_BOT_TOKEN = 'xoxb-bench-0000-bot-token';

export interface ServiceProcessOptions {
  redisUrl: string;
  awsEndpointUrl?: string;
  slackApiUrl: string;
  prefix: string;
  role: 'web' | 'worker' | 'all';
  /**
   * Role `web`: run the intake worker (one-line requests after their ack) in this process too
   * (ServiceOptions.intakeInWebRole), for benches that start no worker process.
   */
  intakeInWebRole?: boolean;
  /** Rules put before the test config's own (first match wins). */
  extraRules?: ApprovalRuleConfig[];
  /** `requests.maxOpenPerRequester` (the test config's default is 5; benches open more). */
  maxOpenPerRequester?: number;
  /**
   * `recording`: test/support's RecordingGrantEngine; `moto`: createAwsServices on moto;
   * `throttled`: test/support's ThrottledGrantEngine (40 ms per IAM call, 10 calls/s per account).
   */
  engine: 'recording' | 'moto' | 'throttled';
  /**
   * Real engine: really pause between AssumeRole tries while a new role is not assumable yet
   * (the access bench, whose proxy in front of moto refuses them for a while). Default: the
   * pauses are skipped (moto makes a role assumable at once).
   */
  realAssumableWait?: boolean;
  /** Default true: upsert the reconcile Job Scheduler (a bench measuring revoke jobs alone says false). */
  scheduleReconcile?: boolean;
  /** Overrides of the config's `revocation` section. */
  revocation?: Partial<AppConfig['revocation']>;
  /** Recording engine: how long each grant takes. */
  grantDelayMs?: number;
  logLevel?: string;
  /**
   * Map requesters to AWS principals by their Slack e-mail (identities.byEmail), so a bench can
   * send each request from its own person instead of running into the open-request limit.
   */
  requestersByEmail?: boolean;
}

export interface GrantCallTiming {
  method: keyof GrantEngine;
  requestId?: string;
  startedAt: number;
  endedAt: number;
  ok: boolean;
}

export type ToChild =
  { type: 'start'; options: ServiceProcessOptions } | { type: 'stats'; reset?: boolean } | { type: 'stop' };

export interface ProcessStats {
  grantCalls: GrantCallTiming[];
  cpuUserMs: number;
  cpuSystemMs: number;
  rssMiB: number;
  /** Peak RSS of the process so far. */
  maxRssMiB: number;
  /** Peaks of the V8 heap (used, total) and of external memory, sampled every 250 ms. */
  peakHeapUsedMiB: number;
  peakHeapTotalMiB: number;
  peakExternalMiB: number;
  /** The throttled engine's IAM call counts. */
  engineCounts?: ThrottledEngineCounts;
  /** The worker role's revocation limiter: attempts, throttled answers, give-ups. */
  revocationCounts?: RevocationCounts;
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  /** Whether a BullMQ worker is attached to the grants queue (revoke-<id> jobs get run). */
  grantsWorkers: number;
  /** The same for the approvals queue: shows that worker detection works at all. */
  approvalsWorkers: number;
}

export type FromChild =
  | { type: 'ready'; port: number }
  | { type: 'stats'; stats: ProcessStats }
  | { type: 'stopped' }
  | { type: 'error'; message: string };

/** Wraps any engine to time every call (what the storm and revoke benches check). */
function timed(engine: GrantEngine, calls: GrantCallTiming[]): GrantEngine {
  async function call<R>(
    method: keyof GrantEngine,
    requestId: string | undefined,
    fn: () => Promise<R>,
  ): Promise<R> {
    const startedAt = Date.now();
    let ok = false;
    try {
      const result = await fn();
      ok = true;
      return result;
    } finally {
      calls.push({ method, requestId, startedAt, endedAt: Date.now(), ok });
    }
  }
  return {
    grant: (r) => call('grant', r.requestId, () => engine.grant(r)),
    revoke: (a, id) => call('revoke', id, () => engine.revoke(a, id)),
    extend: (a, id, at) => call('extend', id, () => engine.extend(a, id, at)),
    refreshDelivery: (a, id, who) => call('refreshDelivery', id, () => engine.refreshDelivery(a, id, who)),
    reconcile: (a, active) => call('reconcile', undefined, () => engine.reconcile(a, active)),
  };
}

let service: RunningService | undefined;
let throttled: ThrottledGrantEngine | undefined;
const calls: GrantCallTiming[] = [];
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
let cpuBase = process.cpuUsage();
const peaks = { heapUsed: 0, heapTotal: 0, external: 0 };
setInterval(() => {
  const m = process.memoryUsage();
  peaks.heapUsed = Math.max(peaks.heapUsed, m.heapUsed);
  peaks.heapTotal = Math.max(peaks.heapTotal, m.heapTotal);
  peaks.external = Math.max(peaks.external, m.external);
}, 250).unref();

async function start(options: ServiceProcessOptions): Promise<number> {
  const loaded = benchConfig(options.prefix, (c) => {
    if (options.extraRules) c.approval.rules.unshift(...options.extraRules);
    if (options.maxOpenPerRequester) c.requests.maxOpenPerRequester = options.maxOpenPerRequester;
    if (options.requestersByEmail) {
      c.identities.byEmail = {
        enabled: true,
        principalTemplate: 'arn:aws:iam::${identity_account_id}:user/${email}',
        identityAccountId: '123456789012',
      };
    }
    if (options.revocation) c.revocation = { ...c.revocation, ...options.revocation };
  });
  const env: EnvOptions = {
    slackBotToken: BENCH_BOT_TOKEN,
    slackSigningSecret: TEST_SIGNING_SECRET,
    hmacKey: TEST_HMAC_KEY,
    slackApiUrl: options.slackApiUrl,
    redisUrl: options.redisUrl,
    awsRegion: 'us-east-1',
    awsEndpointUrl: options.awsEndpointUrl,
    configPath: loaded.file,
    port: 0,
    logLevel: options.logLevel ?? process.env.BENCH_LOG_LEVEL ?? 'info',
  };
  const logger = createLogger({ level: env.logLevel });
  let adapters: ServiceAdapters;
  if (options.engine === 'moto') {
    const redis = createRedis(env.redisUrl);
    // Real engine, real SDK over HTTP to moto; IAM-consistency waits do not really sleep unless
    // the bench simulates IAM's propagation delay.
    const aws = await createAwsServices({
      clock: systemClock,
      env,
      loaded,
      redis,
      logger,
      ...(options.realAssumableWait ? {} : { sleep: async () => undefined }),
    });
    adapters = {
      grants: timed(aws.grants, calls),
      templates: aws.templates,
      accountClients: aws.accountClients,
    };
  } else if (options.engine === 'throttled') {
    throttled = new ThrottledGrantEngine();
    adapters = { grants: timed(throttled, calls), templates: staticTemplateCatalog(TEST_TEMPLATES) };
  } else {
    const engine = new RecordingGrantEngine();
    engine.delayMs = options.grantDelayMs ?? 0;
    adapters = { grants: timed(engine, calls), templates: staticTemplateCatalog(TEST_TEMPLATES) };
  }
  service = await startService({
    env,
    role: options.role,
    intakeInWebRole: options.intakeInWebRole,
    logger,
    loaded,
    host: '127.0.0.1',
    adapters,
    scheduleReconcile: options.scheduleReconcile,
  });
  loopDelay.enable();
  cpuBase = process.cpuUsage();
  return service.port;
}

async function stats(reset: boolean): Promise<ProcessStats> {
  const cpu = process.cpuUsage(cpuBase);
  const workers = service
    ? await service.queues
        .get('grants')
        .getWorkers()
        .catch(() => [])
    : [];
  const approvalsWorkers = service
    ? await service.queues
        .get('approvals')
        .getWorkers()
        .catch(() => [])
    : [];
  const out: ProcessStats = {
    grantCalls: [...calls],
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    rssMiB: process.memoryUsage().rss / 2 ** 20,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    peakHeapUsedMiB: peaks.heapUsed / 2 ** 20,
    peakHeapTotalMiB: peaks.heapTotal / 2 ** 20,
    peakExternalMiB: peaks.external / 2 ** 20,
    engineCounts: throttled ? { ...throttled.counts } : undefined,
    revocationCounts: service?.revocations ? { ...service.revocations.counts } : undefined,
    eventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    eventLoopDelayMaxMs: loopDelay.max / 1e6,
    grantsWorkers: workers.length,
    approvalsWorkers: approvalsWorkers.length,
  };
  if (reset) {
    calls.length = 0;
    loopDelay.reset();
    cpuBase = process.cpuUsage();
  }
  return out;
}

function send(message: FromChild): void {
  process.send?.(message);
}

process.on('message', (message: ToChild) => {
  const run = async () => {
    switch (message.type) {
      case 'start':
        send({ type: 'ready', port: await start(message.options) });
        return;
      case 'stats':
        send({ type: 'stats', stats: await stats(Boolean(message.reset)) });
        return;
      case 'stop':
        await service?.stop();
        loopDelay.disable();
        send({ type: 'stopped' });
        process.disconnect?.();
        return;
    }
  };
  run().catch((error: unknown) => {
    send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  });
});
process.on('disconnect', () => {
  // The parent went away: never linger.
  void (service?.stop() ?? Promise.resolve()).finally(() => process.exit(0));
});
