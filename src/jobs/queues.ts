/**
 * Queue conventions shared by every producer and worker: names, job ids, default job options,
 * connection rules and the key prefix.
 *
 * - Job ids derive from the request id (`revoke-<id>`), so a retried or duplicated enqueue is a
 *   no-op. BullMQ forbids `:` in custom ids, hence `-`.
 * - Workers use connections with `maxRetriesPerRequest: null` (blocking commands must wait out a
 *   Redis blip); producers run after the Slack ack and wait out a failover in bounded time:
 *   queued while the connection reconnects, failed after the client command timeout or two
 *   failed reconnects (`producerConnectionOptions`).
 * - The prefix is `<redis.prefix>:bull`; with a hash tag such as `{aab}` every queue key lands in
 *   one Redis Cluster slot, as BullMQ requires. BullMQ takes the prefix as given (it does not add
 *   a tag), so on a Cluster connection a prefix without a hash tag is refused here, before any
 *   queue or worker would fail on CROSSSLOT (validate already refuses such a config).
 */
import { Queue, type DefaultJobOptions, type QueueOptions, type WorkerOptions } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import { hashTagOf } from '../config/schema/redis.js';
import { isCluster } from '../store/redis-connection.js';

export const QueueName = {
  /** revoke-<id> at the grant's end, warn-<id> before it. */
  grants: 'grants',
  /** remind-<id>, escalate-<id>, expire-<id> for pending requests. */
  approvals: 'approvals',
  /** reconcile runs (Job Scheduler). */
  reconcile: 'reconcile',
  /** credential sweep, rotation reminders, weekly digest (Job Schedulers). */
  hygiene: 'hygiene',
  /** Slack posts made from jobs, e.g. audit batches; rate-limited calls are retried here. */
  notify: 'notify',
  /** audit-anchor runs (Job Scheduler): the audit chain head written to S3 under Object Lock. */
  auditAnchor: 'audit-anchor',
  /** intake-<hash>: a one-line `/aws-access` request, checked and created after the ack. */
  intake: 'intake',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export const jobId = {
  revoke: (requestId: string) => `revoke-${requestId}`,
  warn: (requestId: string) => `warn-${requestId}`,
  remind: (requestId: string) => `remind-${requestId}`,
  escalate: (requestId: string) => `escalate-${requestId}`,
  expire: (requestId: string) => `expire-${requestId}`,
  /** From the command's intake key (intake-worker.ts): the same command is one job. */
  intake: (intakeKey: string) => `intake-${intakeKey}`,
};

/** Retried with exponential backoff and jitter; completed and failed jobs kept for inspection. */
export const defaultJobOptions: DefaultJobOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 2000, jitter: 0.5 },
  removeOnComplete: { age: 7 * 86400, count: 5000 },
  removeOnFail: { age: 30 * 86400 },
};

/**
 * A one-line request's intake job: a few quick attempts (the requester is waiting for the
 * answer; Slack keeps a response_url for 30 minutes), each wait at least the Retry-After of a
 * 429 (`INTAKE_BACKOFF`, see intake-worker.ts). The job holds the command's response_url, so it
 * is removed soon after it ends, whatever the outcome.
 */
export const INTAKE_BACKOFF = 'intake';
export const intakeJobOptions = {
  attempts: 5,
  backoff: { type: INTAKE_BACKOFF, delay: 1000 },
  removeOnComplete: { age: 3600 },
  removeOnFail: { age: 3600 },
} satisfies DefaultJobOptions;

export function queuePrefix(redisPrefix: string): string {
  return `${redisPrefix}:bull`;
}

/** The queue prefix for this connection; on a Redis Cluster only a hash-tagged one. */
function prefixFor(connection: Redis, redisPrefix: string): string {
  if (isCluster(connection) && hashTagOf(redisPrefix) === undefined) {
    throw new Error(
      `redis.prefix "${redisPrefix}" has no hash tag: on Redis Cluster it must contain one such as "{${redisPrefix}}", so every BullMQ key of a queue is in one slot`,
    );
  }
  return queuePrefix(redisPrefix);
}

/**
 * Connection options for a producer: an add waits while the connection reconnects (a Sentinel
 * failover, about 1-2 s), bounded by the client's command timeout and two failed reconnects,
 * then fails.
 */
export const producerConnectionOptions: RedisOptions = {
  enableOfflineQueue: true,
  maxRetriesPerRequest: 2,
  connectTimeout: 5000,
};

export function queueOptions(connection: Redis, redisPrefix: string): QueueOptions {
  return { connection, prefix: prefixFor(connection, redisPrefix), defaultJobOptions };
}

export function workerOptions(
  connection: Redis,
  redisPrefix: string,
  extra: Partial<WorkerOptions> = {},
): WorkerOptions {
  return { connection, prefix: prefixFor(connection, redisPrefix), concurrency: 4, ...extra };
}

/** Producer-side queues, created once per process and shared. */
export class Queues {
  private readonly queues = new Map<QueueName, Queue>();
  constructor(
    private readonly connection: Redis,
    private readonly redisPrefix: string,
  ) {}

  get(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, queueOptions(this.connection, this.redisPrefix));
      this.queues.set(name, queue);
    }
    return queue;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
