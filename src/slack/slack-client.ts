/**
 * Every Slack Web API client of the process comes from here, built from one set of options:
 * the bot token, `SLACK_API_URL`, and the retry settings of the path it serves.
 *
 * - `requests` (Bolt's own client, and the notifier on the Slack request path): retries briefly,
 *   waiting out a 429 inside the call.
 * - `jobs` (posts made from BullMQ jobs): rejects a rate-limited call at once, so the job is
 *   rescheduled after Retry-After and no worker sits waiting on Slack.
 */
import {
  ErrorCode as SlackErrorCode,
  WebClient,
  type WebAPIRateLimitedError,
  type WebClientOptions,
} from '@slack/web-api';
import type { EnvOptions } from '../config/env.js';
import { RetryLaterError } from '../domain/retry-later.js';
import { MissingSettingError } from '../errors.js';
import { slackFetch } from './slack-fetch.js';

export type SlackClientUse = 'requests' | 'jobs';

const RETRIES: Record<SlackClientUse, Pick<WebClientOptions, 'retryConfig' | 'rejectRateLimitedCalls'>> = {
  requests: { retryConfig: { retries: 3, factor: 2, minTimeout: 500, maxTimeout: 5000 } },
  jobs: { rejectRateLimitedCalls: true, retryConfig: { retries: 0 } },
};

/**
 * A fresh options object each call: Bolt writes its logger into the one it is given. `fetch` is
 * slack-fetch.ts (keep-alive `node:http`), for the Web API calls and, through Bolt's
 * `clientOptions`, for `respond()` to a response_url.
 */
export function slackClientOptions(
  env: Pick<EnvOptions, 'slackApiUrl'>,
  use: SlackClientUse,
): WebClientOptions {
  return {
    ...(env.slackApiUrl ? { slackApiUrl: env.slackApiUrl } : {}),
    ...RETRIES[use],
    fetch: slackFetch,
  };
}

export function createSlackClient(
  env: Pick<EnvOptions, 'slackBotToken' | 'slackApiUrl'>,
  use: SlackClientUse,
): WebClient {
  if (!env.slackBotToken) throw new MissingSettingError('SLACK_BOT_TOKEN', 'the bot talks to Slack');
  return new WebClient(env.slackBotToken, slackClientOptions(env, use));
}

/** The one test for "Slack said 429": the jobs client rejects such calls with this error. */
export function isRateLimited(error: unknown): error is WebAPIRateLimitedError {
  return (error as { code?: string } | undefined)?.code === SlackErrorCode.RateLimitedError;
}

/** Runs a Slack call for a job; a 429 becomes a RetryLaterError, which the job reschedules on. */
export async function retryLaterWhenRateLimited<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isRateLimited(error)) throw new RetryLaterError(error.retryAfter ?? 1, { cause: error });
    throw error;
  }
}
