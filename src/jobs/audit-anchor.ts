/**
 * Anchors the audit chain outside Redis: a Job Scheduler (every `audit.anchor.interval`) writes
 * the chain head — `{ headHash, lastEntryId, entries, at }` plus an HMAC — to S3 under Object
 * Lock. Before it anchors a newer head it checks that the stream still holds the previous anchor's
 * entry unchanged and that every entry since links and hashes with the key, so a tampered chain
 * is never anchored: the run fails instead (logged, counted in
 * `aws_access_job_failures_total{queue="audit-anchor"}`), and the next anchor waits for an
 * operator. An unchanged head writes nothing.
 */
import { Queue, Worker, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { S3AuditAnchors } from '../aws/audit-anchor.js';
import type { Clock } from '../domain/ports.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../logger.js';
import { RedisAuditLog, type AuditAnchor } from '../store/audit-log.js';
import { watchFailures } from './metrics.js';
import { QueueName, queueOptions, workerOptions } from './queues.js';
import type { Closable } from './runtime.js';

export const AUDIT_ANCHOR_JOB = 'audit-anchor';
export const AUDIT_ANCHOR_SCHEDULER = 'audit-anchor';

export interface AuditAnchorDeps {
  redis: Redis;
  redisPrefix: string;
  chainKey: Buffer;
  anchors: S3AuditAnchors;
  /** Stamps the anchor's `at`; the worker role passes the service's clock. */
  clock: Clock;
  logger?: Logger;
}

export type AnchorRun =
  { anchored: true; anchor: AuditAnchor; key: string } | { anchored: false; reason: 'empty' | 'unchanged' };

/** One anchor run: check the chain since the last anchor, then write the current head. */
export async function anchorAuditHead(deps: AuditAnchorDeps): Promise<AnchorRun> {
  const log = new RedisAuditLog(deps.redis, deps.redisPrefix, { chainKey: deps.chainKey });
  const snapshot = await log.snapshot();
  if (!snapshot.newest || snapshot.entries === 0) return { anchored: false, reason: 'empty' };
  if (snapshot.newest.hash !== snapshot.head) {
    throw new Error(
      `not anchoring: the audit chain head does not match the newest entry ${snapshot.newest.id}`,
    );
  }
  const previous = await deps.anchors.latest();
  if (previous.invalid.length) {
    deps.logger?.error(
      { invalid: previous.invalid },
      `audit anchors in ${deps.anchors.location} that this bot did not write`,
    );
  }
  if (previous.anchor?.lastEntryId === snapshot.newest.id && previous.anchor.headHash === snapshot.head) {
    return { anchored: false, reason: 'unchanged' };
  }
  const since = await log.verifySince(previous.anchor, snapshot.newest.id);
  if (!since.ok) {
    throw new Error(
      `not anchoring: the audit log does not verify at entry ${since.entryId}: ${since.problem}`,
    );
  }
  if (since.entries !== snapshot.entries) {
    throw new Error(
      `not anchoring: ${snapshot.entries} entries in the stream but ${since.entries} counted up to the newest`,
    );
  }
  const anchor: AuditAnchor = {
    headHash: snapshot.head,
    lastEntryId: snapshot.newest.id,
    entries: snapshot.entries,
    at: new Date(deps.clock.now()).toISOString(),
  };
  const key = await deps.anchors.write(anchor);
  deps.logger?.info({ anchor, key }, 'audit chain anchored');
  return { anchored: true, anchor, key };
}

/** Creates or updates the anchor Job Scheduler; safe to call at every start. */
export async function scheduleAuditAnchor(queue: Queue, intervalSeconds: number): Promise<void> {
  await queue.upsertJobScheduler(
    AUDIT_ANCHOR_SCHEDULER,
    { every: Math.max(1, intervalSeconds) * 1000 },
    {
      name: AUDIT_ANCHOR_JOB,
      opts: { attempts: 3, removeOnComplete: { count: 100 }, removeOnFail: { count: 500 } },
    },
  );
}

export async function startAuditAnchorWorker(options: {
  connection: Redis;
  deps: AuditAnchorDeps;
  intervalSeconds: number;
  logger: Logger;
  metrics?: Metrics;
  workerOptions?: Partial<WorkerOptions>;
}): Promise<Closable> {
  const prefix = options.deps.redisPrefix;
  const queue = new Queue(QueueName.auditAnchor, queueOptions(options.connection, prefix));
  await scheduleAuditAnchor(queue, options.intervalSeconds);
  const worker = new Worker(
    QueueName.auditAnchor,
    async (job) => (job.name === AUDIT_ANCHOR_JOB ? anchorAuditHead(options.deps) : undefined),
    workerOptions(options.connection, prefix, { concurrency: 1, ...options.workerOptions }),
  );
  watchFailures(worker, QueueName.auditAnchor, options.metrics, options.logger);
  return {
    close: async () => {
      await worker.close();
      await queue.close();
    },
  };
}
