/**
 * The notify queue's worker: deferred notifier posts (`slack-call`) and audit batches
 * (`audit-batch`). One worker serves the whole queue (a second one would take these jobs too).
 * A call the far side rate-limits throws RetryLaterError; the job then moves back to delayed for
 * Retry-After, so BullMQ does the waiting and the attempt is not spent.
 */
import { DelayedError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AuditChannel } from '../domain/audit-channel.js';
import type { Clock } from '../domain/ports.js';
import type { DeferredNotification, DeferredNotificationSender } from '../domain/request-ports.js';
import { RetryLaterError } from '../domain/retry-later.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../logger.js';
import { AUDIT_BATCH_JOB, postAuditBatch } from './audit-batches.js';
import { SLACK_CALL_JOB } from './deferred-notifications.js';
import { watchFailures } from './metrics.js';
import { QueueName, workerOptions } from './queues.js';
import type { Closable } from './runtime.js';

export interface NotifyJobDeps {
  /** The notifier on the jobs' Slack client. */
  notifications: DeferredNotificationSender;
  auditChannel: AuditChannel;
  /** For the audit cursor and the poster lock. */
  redis: Redis;
  redisPrefix: string;
  clock: Clock;
}

/** Runs a job's outside call; a RetryLaterError moves the job back to delayed until then. */
export async function delayOnRetryLater<T>(
  job: Job,
  token: string | undefined,
  clock: Clock,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof RetryLaterError && token) {
      await job.moveToDelayed(clock.now() + error.retryAfterSeconds * 1000, token);
      throw new DelayedError();
    }
    throw error;
  }
}

export async function processNotifyJob(deps: NotifyJobDeps, job: Job, token?: string): Promise<unknown> {
  switch (job.name) {
    case SLACK_CALL_JOB:
      return delayOnRetryLater(job, token, deps.clock, () =>
        deps.notifications.resend(job.data as DeferredNotification),
      );
    case AUDIT_BATCH_JOB:
      return delayOnRetryLater(job, token, deps.clock, () =>
        postAuditBatch({ redis: deps.redis, prefix: deps.redisPrefix, channel: deps.auditChannel }),
      );
    default:
      return undefined;
  }
}

export function startNotifyWorker(options: {
  connection: Redis;
  deps: Omit<NotifyJobDeps, 'redis'>;
  logger: Logger;
  metrics?: Metrics;
}): Closable {
  const deps: NotifyJobDeps = { ...options.deps, redis: options.connection };
  const worker = new Worker(
    QueueName.notify,
    (job: Job, token?: string) => processNotifyJob(deps, job, token),
    workerOptions(options.connection, options.deps.redisPrefix, { concurrency: 1 }),
  );
  watchFailures(worker, QueueName.notify, options.metrics, options.logger);
  return { close: () => worker.close() };
}
