/**
 * The hygiene queue: Job Schedulers (cron in `schedules.timezone`) for the daily sweep, the
 * rotation reminders and the weekly digest, and the worker that runs them. The daily sweep
 * fans out one job per account (`hygiene-sweep-<account>-<day>`), so one slow or failing
 * account is retried on its own.
 */
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AppConfig } from '../config/schema.js';
import { localDay } from '../domain/hygiene/calendar.js';
import { AppError, ErrorCode } from '../errors.js';
import type { Metrics } from '../http/metrics.js';
import { HygieneStore } from '../store/hygiene-store.js';
import { createHygieneContext, type HygieneContext, type HygieneContextInput } from './hygiene-context.js';
import { postWeeklyDigest } from './hygiene-digest.js';
import { sendRotationReminders } from './hygiene-reminders.js';
import { sweepAccount } from './hygiene-sweep.js';
import { watchFailures } from './metrics.js';
import {
  POSTURE_ACCOUNT_JOB,
  POSTURE_DRIFT_JOB,
  POSTURE_DRIFT_SCHEDULER,
  postureJobId,
  postureJobs,
  type PostureJobInput,
  type PostureJobs,
} from './posture-sweep.js';
import { QueueName, queueOptions, workerOptions } from './queues.js';

export const HygieneJob = {
  sweep: 'sweep',
  sweepAccount: 'sweep-account',
  reminders: 'rotation-reminders',
  digest: 'digest',
  postureAccount: POSTURE_ACCOUNT_JOB,
  postureDrift: POSTURE_DRIFT_JOB,
  postureDigest: 'posture-digest',
} as const;

export const HygieneScheduler = {
  sweep: 'hygiene-sweep',
  reminders: 'hygiene-rotation-reminders',
  digest: 'hygiene-digest',
} as const;

/** Creates or updates the three Job Schedulers; safe to call at every start. */
export async function scheduleHygiene(queue: Queue, config: AppConfig): Promise<void> {
  const tz = config.schedules.timezone;
  await queue.upsertJobScheduler(
    HygieneScheduler.sweep,
    { pattern: config.schedules.hygiene, tz },
    { name: HygieneJob.sweep },
  );
  await queue.upsertJobScheduler(
    HygieneScheduler.reminders,
    { pattern: config.schedules.rotationReminders, tz },
    { name: HygieneJob.reminders },
  );
  await queue.upsertJobScheduler(
    HygieneScheduler.digest,
    { pattern: config.schedules.digest, tz },
    { name: HygieneJob.digest },
  );
}

export interface HygieneWorkerDeps extends Omit<HygieneContextInput, 'store'> {
  /** Counts failed attempts (`aws_access_job_failures_total{queue="hygiene"}`). */
  metrics?: Metrics;
  /** A worker connection (`createRedis(url, 'worker')`): BullMQ needs maxRetriesPerRequest null. */
  connection: Redis;
  /** Default true: upsert the Job Schedulers. */
  schedule?: boolean;
  /** Jobs at once (accounts swept side by side); default `aws.concurrency.accounts`. */
  concurrency?: number;
  /** The IAM posture review (#16): with it, the daily sweep also reviews each account's posture. */
  posture?: PostureJobInput;
}

export interface HygieneWorkers {
  queue: Queue;
  worker: Worker;
  context: HygieneContext;
  close(): Promise<void>;
}

/** The jobs' context on the worker's Redis connection. */
export function hygieneContext(deps: HygieneWorkerDeps): HygieneContext {
  return createHygieneContext({
    ...deps,
    store: new HygieneStore(deps.connection, deps.config.redis.prefix),
  });
}

export async function processHygieneJob(
  ctx: HygieneContext,
  queue: Queue,
  job: Job,
  posture?: PostureJobs,
): Promise<unknown> {
  try {
    switch (job.name) {
      case HygieneJob.sweep: {
        const day = localDay(new Date(ctx.clock.now()), ctx.config.schedules.timezone);
        const accounts = await ctx.listAccountIds();
        await queue.addBulk(
          accounts.map((accountId) => ({
            name: HygieneJob.sweepAccount,
            data: { accountId },
            opts: { jobId: `hygiene-sweep-${accountId}-${day}` },
          })),
        );
        if (posture && ctx.config.posture.enabled) {
          await queue.addBulk(
            accounts.map((accountId) => ({
              name: HygieneJob.postureAccount,
              data: { accountId },
              opts: { jobId: postureJobId(accountId, day) },
            })),
          );
        }
        return { accounts: accounts.length };
      }
      case HygieneJob.sweepAccount: {
        const { accountId } = job.data as { accountId: string };
        const r = await sweepAccount(ctx, accountId);
        return { findings: r.findings.length, warned: r.warned.length, deactivated: r.deactivated.length };
      }
      case HygieneJob.postureAccount: {
        if (!posture) throw new UnrecoverableError('posture review not wired in this worker');
        const { accountId } = job.data as { accountId: string };
        const r = await posture.sweep(accountId);
        return { findings: r.findings.length, accepted: r.accepted.length };
      }
      case HygieneJob.postureDrift:
        // From the Job Scheduler: every account; after an IAM change alert: that account.
        return {
          told: posture ? await posture.checkDrift((job.data as { accountId?: string })?.accountId) : 0,
        };
      case HygieneJob.reminders:
        return await sendRotationReminders(ctx);
      case HygieneJob.digest: {
        const d = await postWeeklyDigest(ctx);
        // Its own job (one per week), so a failed posture post never posts this digest twice.
        if (posture && ctx.config.posture.enabled)
          await queue.add(HygieneJob.postureDigest, {}, { jobId: `posture-digest-${d.week}` });
        return { week: d.week, total: d.total };
      }
      case HygieneJob.postureDigest: {
        if (!posture) throw new UnrecoverableError('posture review not wired in this worker');
        const p = await posture.digest();
        return { week: p.week, total: p.total };
      }
      default:
        throw new UnrecoverableError(`unknown hygiene job "${job.name}"`);
    }
  } catch (error) {
    // A malformed report or a config problem will not fix itself on retry.
    if (error instanceof AppError && error.code === ErrorCode.AwsFatal)
      throw new UnrecoverableError(error.message);
    throw error;
  }
}

export async function startHygieneWorkers(deps: HygieneWorkerDeps): Promise<HygieneWorkers> {
  const context = hygieneContext(deps);
  const posture = deps.posture && postureJobs(context, deps.connection, deps.accounts, deps.posture);
  const queue = new Queue(QueueName.hygiene, queueOptions(deps.connection, deps.config.redis.prefix));
  if (deps.schedule ?? true) {
    await scheduleHygiene(queue, deps.config);
    // Drift of the bot's roles between daily sweeps, on reconcile's schedule.
    if (!posture || !deps.config.posture.enabled) await queue.removeJobScheduler(POSTURE_DRIFT_SCHEDULER);
    else
      await queue.upsertJobScheduler(
        POSTURE_DRIFT_SCHEDULER,
        { pattern: deps.config.schedules.reconcile, tz: deps.config.schedules.timezone },
        {
          name: HygieneJob.postureDrift,
          opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 500 } },
        },
      );
  }
  const worker = new Worker(
    QueueName.hygiene,
    (job) => processHygieneJob(context, queue, job, posture),
    workerOptions(deps.connection, deps.config.redis.prefix, {
      concurrency: deps.concurrency ?? deps.config.aws.concurrency.accounts,
    }),
  );
  watchFailures(worker, QueueName.hygiene, deps.metrics, context.logger);
  return {
    queue,
    worker,
    context,
    close: async () => {
      await worker.close();
      await queue.close();
    },
  };
}
