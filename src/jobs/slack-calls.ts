/**
 * Slack posts from jobs that Slack rate-limited. The job's WebClient rejects rate-limited calls
 * instead of sleeping (`rejectRateLimitedCalls`), the notifier hands the call here, and it becomes
 * a `slack-call` job on the notify queue, delayed by Retry-After and retried with backoff, so a
 * busy channel never holds a revoke worker. Only message posts and updates come here, never a
 * delivery (it may hold credentials, which must not reach Redis).
 */
import { DelayedError, type Job } from 'bullmq';
import { ErrorCode as SlackErrorCode, type WebAPIRateLimitedError, type WebClient } from '@slack/web-api';
import type { DeferredSlackCall } from '../slack/slack-notifier.js';
import { QueueName, type Queues } from './queues.js';

export const SLACK_CALL_JOB = 'slack-call';

export function deferSlackCalls(
  queues: Queues,
): (call: DeferredSlackCall, retryAfterSeconds: number) => Promise<void> {
  return async (call, retryAfterSeconds) => {
    await queues.get(QueueName.notify).add(SLACK_CALL_JOB, call, {
      delay: Math.max(1, retryAfterSeconds) * 1000,
      removeOnComplete: true,
      removeOnFail: { count: 1000 },
    });
  };
}

export function isRateLimited(error: unknown): error is WebAPIRateLimitedError {
  return (error as { code?: string }).code === SlackErrorCode.RateLimitedError;
}

/** Runs a job's Slack work; a rate-limited call moves the job back to delayed for Slack's Retry-After. */
export async function waitOutRateLimit<T>(
  job: Job,
  token: string | undefined,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isRateLimited(error) && token) {
      await job.moveToDelayed(Date.now() + error.retryAfter * 1000, token);
      throw new DelayedError();
    }
    throw error;
  }
}

export async function runSlackCall(
  client: WebClient,
  job: Job<DeferredSlackCall>,
  token?: string,
): Promise<void> {
  const { method, args } = job.data;
  if (method !== 'chat.postMessage' && method !== 'chat.update') return;
  await waitOutRateLimit(job, token, () => client.apiCall(method, args));
}
