/**
 * The intake queue: a one-line `/aws-access <account> <template> <duration> <reason>` after its
 * ack. The web process only acks "Checking your request…" and adds this job (one Redis round
 * trip); the worker role checks the request (users.info, user groups, policy), creates it,
 * posts the approvers' message, sets its timers, DMs the requester and answers the command's
 * response_url. That follow-up work (four Slack calls, six Redis round trips, ~3.5 ms of CPU)
 * ran on the web process's event loop before, and under load the acks queued behind it
 * (docs/benchmarks.md, section 1).
 *
 * At least once, one request: the job id and the request id both derive from the command (team,
 * user, trigger_id), and the store creates a request only under a free id (atomically), so a job
 * that runs twice (killed, stalled, retried after the create) finds its request and answers with
 * it instead of creating another (RequestService.submit with `requestId`).
 *
 * Failures: a refusal is an answer, never retried. A Slack or Redis failure is retried with
 * backoff (a 429 waits at least its Retry-After); after the last attempt the requester is told
 * nothing was created. Without a worker process, intake jobs wait in Redis (like revocations):
 * the web role alone creates no requests.
 */
import { createHash } from 'node:crypto';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { IntakeCommand, IntakeOutcome, IntakeQueue, IntakeReplies } from '../domain/intake.js';
import { OpenRequestLimitError } from '../domain/request-ports.js';
import { GrantOperationError, type RequestService } from '../domain/request-service.js';
import { RetryLaterError } from '../domain/retry-later.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../logger.js';
import { watchFailures } from './metrics.js';
import { INTAKE_BACKOFF, intakeJobOptions, jobId, QueueName, workerOptions, type Queues } from './queues.js';
import type { Closable } from './runtime.js';

export const INTAKE_JOB = 'request';

/** Everything the job needs; the response_url is in it, so the job is removed soon after. */
export interface IntakeJobData {
  command: IntakeCommand;
}

/** The command's key: one job id and one request id per command, whoever adds it and how often. */
export function intakeIds(command: Pick<IntakeCommand, 'teamId' | 'triggerId' | 'draft'>): {
  jobId: string;
  requestId: string;
} {
  const key = createHash('sha256')
    .update(`${command.teamId}\n${command.draft.requesterId}\n${command.triggerId}`)
    .digest('hex');
  // The request id has the shape of a random one (`r-` and 10 hex digits, as newRequestId).
  return { jobId: jobId.intake(key.slice(0, 32)), requestId: `r-${key.slice(32, 42)}` };
}

/** The producer side, on the Slack request path. */
export class BullIntakeQueue implements IntakeQueue {
  constructor(private readonly queues: Queues) {}

  async submit(command: IntakeCommand): Promise<void> {
    const data: IntakeJobData = { command };
    await this.queues
      .get(QueueName.intake)
      .add(INTAKE_JOB, data, { ...intakeJobOptions, jobId: intakeIds(command).jobId });
  }
}

/** Exponential from `delay`, with jitter, and never sooner than a 429's Retry-After. */
export function intakeBackoff(attemptsMade: number, type?: string, error?: Error): number {
  if (type !== INTAKE_BACKOFF) return 0;
  const exponential = intakeJobOptions.backoff.delay * 2 ** Math.max(0, attemptsMade - 1);
  const jittered = exponential * (0.75 + Math.random() * 0.5);
  const retryAfter = error instanceof RetryLaterError ? error.retryAfterSeconds * 1000 : 0;
  return Math.round(Math.max(jittered, retryAfter));
}

export interface IntakeJobDeps {
  /** The RequestService on the jobs' Slack client (a 429 is a RetryLaterError, not a wait). */
  requests: RequestService;
  replies: IntakeReplies;
  logger: Logger;
}

export async function processIntakeJob(
  deps: IntakeJobDeps,
  job: Job<IntakeJobData>,
): Promise<{ outcome: IntakeOutcome['kind']; requestId?: string }> {
  const { command } = job.data;
  const { requestId } = intakeIds(command);
  let outcome: IntakeOutcome;
  try {
    const submitted = await deps.requests.submit(command.draft, { requestId });
    outcome = submitted.ok
      ? {
          kind: 'created',
          request: submitted.request,
          ...(submitted.group ? { group: submitted.group } : {}),
        }
      : { kind: 'refused', refusals: submitted.refusals };
  } catch (error) {
    if (error instanceof GrantOperationError) outcome = { kind: 'grant-failed', message: error.message };
    else if (error instanceof OpenRequestLimitError) outcome = { kind: 'limit', message: error.message };
    else {
      const attempts = job.opts.attempts ?? 1;
      if (job.attemptsMade + 1 < attempts) throw error;
      // The last attempt: say so, then fail the job (counted, kept an hour for inspection).
      deps.logger.error({ err: error, jobId: job.id, attempts }, 'intake gave up: nothing was created');
      await deps.replies.answer(command.responseUrl, { kind: 'failed' });
      throw error;
    }
  }
  await deps.replies.answer(command.responseUrl, outcome);
  return {
    outcome: outcome.kind,
    ...(outcome.kind === 'created' ? { requestId: outcome.group?.group.id ?? outcome.request.id } : {}),
  };
}

export function startIntakeWorker(options: {
  connection: Redis;
  redisPrefix: string;
  deps: IntakeJobDeps;
  metrics?: Metrics;
}): Closable {
  const worker = new Worker<IntakeJobData>(
    QueueName.intake,
    (job) => processIntakeJob(options.deps, job),
    workerOptions(options.connection, options.redisPrefix, {
      // Each job mostly waits on Slack: enough in flight to keep up with a burst of commands.
      concurrency: 16,
      settings: { backoffStrategy: intakeBackoff },
    }),
  );
  watchFailures(worker, QueueName.intake, options.metrics, options.deps.logger);
  return { close: () => worker.close() };
}
