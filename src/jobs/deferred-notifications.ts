/**
 * Notifier posts from jobs that Slack rate-limited. The jobs' Slack client rejects rate-limited
 * calls instead of sleeping, the notifier hands the call here, and it becomes a `slack-call` job
 * on the notify queue, delayed by Retry-After and retried with backoff, so a busy channel never
 * holds a revoke worker. Only posts and updates come here, never a delivery (it may hold
 * credentials, which must not reach Redis). The notify worker sends them again.
 */
import type { DeferNotification } from '../domain/request-ports.js';
import { QueueName, type Queues } from './queues.js';

export const SLACK_CALL_JOB = 'slack-call';

export function deferNotifications(queues: Queues): DeferNotification {
  return async (call, retryAfterSeconds) => {
    await queues.get(QueueName.notify).add(SLACK_CALL_JOB, call, {
      delay: Math.max(1, retryAfterSeconds) * 1000,
      removeOnComplete: true,
      removeOnFail: { count: 1000 },
    });
  };
}
