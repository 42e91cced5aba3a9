/**
 * Mirrors the audit stream to the audit channel in batches. Every event schedules (at most) one
 * job per batch window (`audit-batch-<window>`); the job posts everything after the posted
 * cursor, a page per message. The WebClient rejects rate-limited calls instead of sleeping, and
 * the job is moved back to delayed for Slack's Retry-After, so BullMQ does the waiting.
 */
import { Worker, type Job } from 'bullmq';
import type { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import type { AuditEvent } from '../domain/audit-event.js';
import type { Logger } from '../logger.js';
import { auditKeys, RedisAuditLog } from '../store/audit-log.js';
import { createRedis } from '../store/redis-connection.js';
import { escapeMrkdwn, mention } from '../slack/mrkdwn.js';
import type { DeferredSlackCall } from '../slack/slack-notifier.js';
import type { Metrics } from '../http/metrics.js';
import { QueueName, watchFailures, workerOptions, type Queues } from './queues.js';
import { runSlackCall, SLACK_CALL_JOB, waitOutRateLimit } from './slack-calls.js';
import type { Closable } from './runtime.js';

export const AUDIT_BATCH_JOB = 'audit-batch';
const PAGE = 40;

/** The `forward` hook of RedisAuditLog: one delayed job per window collects that window's events. */
export function auditBatchScheduler(queues: Queues, batchSeconds: number): (id: string) => Promise<void> {
  const windowMs = Math.max(100, Math.round(batchSeconds * 1000));
  return async () => {
    const now = Date.now();
    const window = Math.floor(now / windowMs);
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
  };
}

export function auditLine(id: string, event: AuditEvent): string {
  const states =
    event.stateBefore || event.stateAfter ? ` ${event.stateBefore ?? '∅'} → ${event.stateAfter ?? '∅'}` : '';
  const outcome = event.outcome === 'ok' ? '' : ` *${event.outcome}*`;
  const request = event.requestId ? ` \`${escapeMrkdwn(event.requestId)}\`` : '';
  const reason = event.reason ? ` – ${escapeMrkdwn(event.reason.slice(0, 300))}` : '';
  return `\`${event.at}\` ${mention(event.actor)} ${escapeMrkdwn(event.action)}${request}${states}${outcome}${reason} _(${id})_`;
}

/** Posts every audit event after the cursor; returns how many it posted. */
export async function postAuditBatch(options: {
  redis: Redis;
  prefix: string;
  client: WebClient;
  channel: string;
}): Promise<number> {
  const keys = auditKeys(options.prefix);
  const log = new RedisAuditLog(options.redis, options.prefix);
  // One poster at a time across replicas; a second one simply finds nothing new afterwards.
  const locked = await options.redis.set(keys.postLock, '1', 'PX', 60_000, 'NX');
  if (locked !== 'OK') throw new Error('another replica is posting audit events');
  let posted = 0;
  try {
    for (;;) {
      const cursor = (await options.redis.get(keys.posted)) ?? '-';
      const entries = await log.read(cursor, PAGE);
      if (!entries.length) return posted;
      await options.client.chat.postMessage({
        channel: options.channel,
        text: entries.map((e) => auditLine(e.id, e.event)).join('\n'),
        unfurl_links: false,
        unfurl_media: false,
      });
      await options.redis.set(keys.posted, entries[entries.length - 1]!.id);
      posted += entries.length;
      if (entries.length < PAGE) return posted;
    }
  } finally {
    await options.redis.del(keys.postLock);
  }
}

export function startAuditBatchWorker(options: {
  redisUrl: string;
  redisPrefix: string;
  client: WebClient;
  channel: string;
  logger: Logger;
  metrics?: Metrics;
}): Closable {
  const connection = createRedis(options.redisUrl, 'worker');
  const worker = new Worker(
    QueueName.notify,
    async (job: Job, token?: string) => {
      // One worker serves the whole notify queue (a second one would take these jobs too).
      if (job.name === SLACK_CALL_JOB)
        return runSlackCall(options.client, job as Job<DeferredSlackCall>, token);
      if (job.name !== AUDIT_BATCH_JOB) return undefined;
      return waitOutRateLimit(job, token, () =>
        postAuditBatch({
          redis: connection,
          prefix: options.redisPrefix,
          client: options.client,
          channel: options.channel,
        }),
      );
    },
    workerOptions(connection, options.redisPrefix, { concurrency: 1 }),
  );
  watchFailures(worker, QueueName.notify, options.metrics, options.logger);
  return {
    close: async () => {
      await worker.close();
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
