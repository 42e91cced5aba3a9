/**
 * The job metrics: failed attempts per queue (`aws_access_job_failures_total`) and revocations
 * (`aws_access_revocations_total`, `aws_access_revoke_lateness_seconds`), counted the same way
 * whether the revoke job or reconcile ended the grant.
 */
import type { Worker } from 'bullmq';
import type { AccessRequest } from '../domain/access-request.js';
import type { ActionResult } from '../domain/request-service.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../logger.js';

/**
 * Counts every failed attempt per queue and logs it; BullMQ retries with the queue's backoff
 * until the job's attempts are used up.
 */
export function watchFailures(
  worker: Worker,
  /** A QueueName (not imported: queues.ts re-exports this function, see there). */
  queue: string,
  metrics: Metrics | undefined,
  logger: Logger,
): void {
  worker.on('failed', (job, error) => {
    metrics?.jobFailures.inc({ queue });
    logger.warn(
      { err: error, queue, job: job?.name, jobId: job?.id, attempt: job?.attemptsMade },
      `${queue} job failed`,
    );
  });
  worker.on('error', (error) => logger.warn({ err: error, queue }, `${queue} worker error`));
}

/** Counts a revocation that happened (not an idempotent repeat) and how late it was. */
export function recordRevocation(
  metrics: Metrics | undefined,
  result: ActionResult,
  before: AccessRequest,
  now: number,
): number | undefined {
  if (!result.ok || result.changed === false) return undefined;
  metrics?.revocations.inc({ result: 'ok' });
  if (before.expiresAt === undefined || before.expiresAt > now) return undefined;
  const lateness = (now - before.expiresAt) / 1000;
  metrics?.revokeLateness.observe(lateness);
  return lateness;
}
