/**
 * Mirrors the audit stream to the audit channel in batches. Every event schedules (at most) one
 * job per batch window (`audit-batch-<window>`); the job posts everything after the posted
 * cursor, a page per message, through the AuditChannel port (the notify worker runs it).
 */
import type { Redis } from 'ioredis';
import type { AuditChannel } from '../domain/audit-channel.js';
import type { Clock } from '../domain/ports.js';
import { RetryLaterError } from '../domain/retry-later.js';
import { auditKeys, RedisAuditLog } from '../store/audit-log.js';
import { QueueName, type Queues } from './queues.js';

export const AUDIT_BATCH_JOB = 'audit-batch';
const PAGE = 40;

/** The `forward` hook of RedisAuditLog: one delayed job per window collects that window's events. */
export function auditBatchScheduler(
  queues: Queues,
  batchSeconds: number,
  clock: Clock,
): (id: string) => Promise<void> {
  const windowMs = Math.max(100, Math.round(batchSeconds * 1000));
  // The window this process has already scheduled: adding its job again is a no-op in BullMQ
  // (same job id), so skip the round trip; at 100+ revocations a second it is one per event.
  let scheduled: number | undefined;
  return async () => {
    const now = clock.now();
    const window = Math.floor(now / windowMs);
    if (window === scheduled) return;
    await queues.get(QueueName.notify).add(
      AUDIT_BATCH_JOB,
      {},
      {
        jobId: `audit-batch-${window}`,
        delay: (window + 1) * windowMs - now,
        removeOnComplete: true,
        removeOnFail: { count: 100 },
      },
    );
    scheduled = window;
  };
}

/** Posts every audit event after the cursor; returns how many it posted. */
export async function postAuditBatch(options: {
  redis: Redis;
  prefix: string;
  channel: AuditChannel;
}): Promise<number> {
  const keys = auditKeys(options.prefix);
  const log = new RedisAuditLog(options.redis, options.prefix);
  // One poster at a time across replicas; a second one simply finds nothing new afterwards.
  // Slack's Retry-After holds for every batch job, not just the one that was told: a later
  // window's job waits out the same rate limit instead of posting straight into it.
  const blockedMs = await options.redis.pttl(keys.postAfter);
  if (blockedMs > 0) throw new RetryLaterError(Math.ceil(blockedMs / 1000));
  const locked = await options.redis.set(keys.postLock, '1', 'PX', 60_000, 'NX');
  if (locked !== 'OK') throw new Error('another replica is posting audit events');
  let posted = 0;
  try {
    for (;;) {
      const cursor = (await options.redis.get(keys.posted)) ?? '-';
      const entries = await log.read(cursor, PAGE);
      if (!entries.length) return posted;
      try {
        await options.channel.post(entries);
      } catch (error) {
        if (error instanceof RetryLaterError) {
          await options.redis.set(keys.postAfter, '1', 'PX', Math.max(1, error.retryAfterSeconds * 1000));
        }
        throw error;
      }
      await options.redis.set(keys.posted, entries[entries.length - 1]!.id);
      posted += entries.length;
      if (entries.length < PAGE) return posted;
    }
  } finally {
    await options.redis.del(keys.postLock);
  }
}
