/**
 * One GET to an on-call provider, answered as JSON or as the reason it could not be: global
 * fetch with a timeout per try (AbortSignal.timeout), retried with backoff on a timeout, a
 * network error, 429 or 5xx, then given up. A look-up happens at most once a minute per schedule
 * (the directory caches), so fetch's per-call overhead does not matter here (see slack-fetch.ts
 * for why Slack calls avoid it). The reason never holds the token or the answer's body.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProviderCallOptions {
  /** Bound of one try. */
  timeoutMs: number;
  /** Tries in all (at least 1). */
  attempts: number;
  /** Backoff before try n+1 is `backoffMs * 2^(n-1)`, or the 429's Retry-After when shorter than 2 s. */
  backoffMs?: number;
  fetch?: typeof fetch;
}

export type ProviderAnswer = { ok: true; body: unknown } | { ok: false; reason: string };

const RETRY_AFTER_CAP_MS = 2_000;

function retryable(status: number): boolean {
  return status === 429 || status >= 500;
}

export async function getJson(
  provider: string,
  url: URL,
  headers: Record<string, string>,
  options: ProviderCallOptions,
): Promise<ProviderAnswer> {
  const doFetch = options.fetch ?? fetch;
  const attempts = Math.max(1, options.attempts);
  const backoff = options.backoffMs ?? 200;
  let reason = `${provider} did not answer`;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let wait = backoff * 2 ** (attempt - 1);
    try {
      const response = await doFetch(url, {
        method: 'GET',
        headers,
        redirect: 'error',
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      if (response.ok) {
        try {
          return { ok: true, body: await response.json() };
        } catch {
          return { ok: false, reason: `${provider} answered with something that is not JSON` };
        }
      }
      await response.body?.cancel().catch(() => undefined);
      reason = `${provider} answered HTTP ${response.status}`;
      if (!retryable(response.status)) return { ok: false, reason };
      const after = Number(response.headers.get('retry-after'));
      if (Number.isFinite(after) && after > 0 && after * 1000 <= RETRY_AFTER_CAP_MS) wait = after * 1000;
    } catch (error) {
      const name = (error as { name?: string }).name;
      reason =
        name === 'TimeoutError' || name === 'AbortError'
          ? `${provider} did not answer within ${options.timeoutMs} ms`
          : `${provider} could not be reached`;
    }
    if (attempt < attempts) await sleep(wait);
  }
  return { ok: false, reason: `${reason} (${attempts} ${attempts === 1 ? 'try' : 'tries'})` };
}
