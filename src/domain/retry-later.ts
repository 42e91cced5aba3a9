/**
 * Thrown by an adapter when the other side asked to be called again later (Slack's 429 with
 * Retry-After): the job that made the call is rescheduled for then instead of failing an attempt.
 */
export class RetryLaterError extends Error {
  constructor(
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(`rate-limited; retry after ${retryAfterSeconds} s`, options);
    this.name = 'RetryLaterError';
  }
}
