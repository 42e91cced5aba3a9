/**
 * How every AWS SDK client of the bot is built: explicit region and endpoint (moto in tests),
 * the SDK's standard retry strategy (jittered exponential backoff for throttling such as
 * Throttling / TooManyRequestsException and for 5xx; quota and validation errors are not
 * retried), and a call counter for /metrics.
 */
import type { Metrics } from '../http/metrics.js';

export interface AwsSettings {
  /** Region for STS (regional endpoint) and anything regional. */
  region: string;
  /** The SDK endpoint override, e.g. moto_server in tests. */
  endpoint?: string;
  /** Attempts per call including the first (SDK standard retry mode). */
  maxAttempts: number;
}

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/**
 * Calls `page` with each continuation token until AWS returns none. Organizations pages say
 * `next: NextToken`; IAM lists go through `allIamPages`.
 */
export async function allPages<T>(
  page: (token?: string) => Promise<{ items: T[]; next?: string }>,
): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  do {
    const result = await page(token);
    out.push(...result.items);
    token = result.next;
  } while (token);
  return out;
}

/** What every paged IAM answer carries: more to come while `IsTruncated`, from `Marker`. */
interface IamPage {
  IsTruncated?: boolean;
  Marker?: string;
}

/**
 * Every item of a paged IAM list: `send(Marker)` sends the call for one page and `items` picks
 * the list out of the answer. The command stays at the call site, where the deploy test's scan
 * of `new XCommand(` finds the action the broker policy must allow.
 */
export function allIamPages<P extends IamPage, T>(
  send: (marker?: string) => Promise<P>,
  items: (page: P) => T[] | undefined,
): Promise<T[]> {
  return allPages(async (marker) => {
    const page = await send(marker);
    return { items: items(page) ?? [], next: page.IsTruncated ? page.Marker : undefined };
  });
}

/** IAM and Organizations are global services served from us-east-1. */
export const GLOBAL_REGION = 'us-east-1';

export function clientConfig(
  settings: AwsSettings,
  options: { region?: string; credentials?: AwsCredentials } = {},
) {
  return {
    region: options.region ?? settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    retryMode: 'standard' as const,
    maxAttempts: settings.maxAttempts,
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
}

interface MiddlewareClient {
  middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: { clientName?: string; commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

/** How many HTTP attempts the SDK's retry middleware made for a call (output or error). */
function attemptsOf(result: unknown): number {
  const attempts = (result as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts;
  return typeof attempts === 'number' && attempts > 0 ? attempts : 1;
}

/**
 * Counts every call (each logical call once, whatever the retries) by service and operation, and
 * the SDK's retries of it (`$metadata.attempts` less one), so throttling shows in /metrics.
 */
export function countCalls<T>(client: T, metrics: Metrics | undefined): T {
  if (!metrics) return client;
  (client as unknown as MiddlewareClient).middlewareStack.add(
    (next, context) => async (args) => {
      const labels = {
        service: (context.clientName ?? 'unknown').replace(/Client$/, ''),
        operation: (context.commandName ?? 'unknown').replace(/Command$/, ''),
      };
      metrics.awsCalls.inc(labels);
      let attempts = 1;
      try {
        const result = (await next(args)) as { output?: unknown };
        attempts = attemptsOf(result?.output);
        return result;
      } catch (error) {
        attempts = attemptsOf(error);
        throw error;
      } finally {
        if (attempts > 1) metrics.awsRetries.inc(labels, attempts - 1);
      }
    },
    { step: 'initialize', name: 'awsAccessCallCounter' },
  );
  return client;
}
