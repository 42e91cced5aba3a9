/**
 * The grants queue: `revoke-<id>` at the grant's end and `warn-<id>` before it. BullMQ is
 * at-least-once, so both handlers are idempotent: a revoke for a grant already revoked is a
 * no-op success, a warning for a grant that ended does nothing. A failed revoke is retried with
 * the queue's exponential backoff; the last attempt moves the request to revoke-failed and
 * alerts security, and reconcile keeps trying after that.
 */
import { DelayedError, UnrecoverableError, Worker, type Job, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Clock } from '../domain/ports.js';
import { SYSTEM_ACTOR, type ActionResult, type RequestService } from '../domain/request-service.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../logger.js';
import { GrantJob, type RequestJobData } from './approval-scheduler.js';
import { recordRevocation, watchFailures } from './metrics.js';
import { QueueName, workerOptions } from './queues.js';
import type { Closable } from './runtime.js';

export interface GrantJobDeps {
  /** A RequestService whose notifier uses the job Slack client. */
  requests: RequestService;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
}

export async function revokeAtEnd(
  deps: GrantJobDeps,
  job: Job<RequestJobData>,
  token?: string,
): Promise<{ acted: boolean; state?: string; latenessSeconds?: number }> {
  const { requestId } = job.data;
  const request = await deps.requests.get(requestId);
  if (!request) return { acted: false, state: 'missing' };
  if (request.state !== 'active' && request.state !== 'revoke-failed') {
    return { acted: false, state: request.state };
  }
  // Extended while this job was already running (so it could not be moved): wait for the new end.
  if (request.state === 'active' && request.expiresAt !== undefined && token) {
    if (request.expiresAt > deps.clock.now() + 1000) {
      await job.moveToDelayed(request.expiresAt, token);
      throw new DelayedError();
    }
  }
  const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  let result: ActionResult;
  try {
    result = await deps.requests.revokeGrant(requestId, SYSTEM_ACTOR, {
      reason: 'the grant ended',
      recordFailure: last,
      request,
      fromEndJob: true,
    });
  } catch (error) {
    if (last) deps.metrics?.revocations.inc({ result: 'failed' });
    throw error;
  }
  if (!result.ok) return { acted: false, state: result.refusal.code };
  const latenessSeconds = recordRevocation(deps.metrics, result, request, deps.clock.now());
  if (latenessSeconds !== undefined) {
    deps.logger.info({ requestId, latenessSeconds }, 'grant revoked at its end');
  }
  return { acted: result.changed !== false, state: result.request.state, latenessSeconds };
}

export async function processGrantJob(
  deps: GrantJobDeps,
  job: Job<RequestJobData>,
  token?: string,
): Promise<unknown> {
  switch (job.name) {
    case GrantJob.revoke:
      return revokeAtEnd(deps, job, token);
    case GrantJob.warn:
      return { warned: await deps.requests.warnExpiry(job.data.requestId) };
    default:
      throw new UnrecoverableError(`unknown grants job "${job.name}"`);
  }
}

export function startGrantWorker(options: {
  connection: Redis;
  redisPrefix: string;
  deps: GrantJobDeps;
  /** Tuning such as lockDuration / stalledInterval (tests use short ones). */
  workerOptions?: Partial<WorkerOptions>;
}): Closable & { worker: Worker } {
  const worker = new Worker<RequestJobData>(
    QueueName.grants,
    (job, token) => processGrantJob(options.deps, job, token),
    workerOptions(options.connection, options.redisPrefix, options.workerOptions),
  );
  watchFailures(worker, QueueName.grants, options.deps.metrics, options.deps.logger);
  return { worker, close: () => worker.close() };
}
