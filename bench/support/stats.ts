/**
 * Latency statistics and a bounded load loop. Every loop stops by itself: after `total`
 * operations or after `maxMs`, whichever comes first.
 */

export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

export interface LoadResult {
  latencies: number[];
  errors: number;
  firstError?: string;
  completed: number;
  elapsedMs: number;
  /** True when the time bound, not the count, ended the loop. */
  timedOut: boolean;
}

/**
 * Runs `task(i)` for i in [0, total) with at most `concurrency` in flight; stops starting new
 * tasks once `maxMs` has passed. A task returns its own latency in ms, or throws (an error).
 */
export async function runBounded(options: {
  total: number;
  concurrency: number;
  maxMs: number;
  task: (i: number) => Promise<number>;
}): Promise<LoadResult> {
  const { total, concurrency, maxMs, task } = options;
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  let timedOut = false;
  const started = performance.now();
  const lane = async () => {
    for (;;) {
      if (next >= total) return;
      if (performance.now() - started > maxMs) {
        timedOut = true;
        return;
      }
      const i = next++;
      try {
        latencies.push(await task(i));
      } catch (error) {
        errors += 1;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, total)) }, lane));
  return {
    latencies,
    errors,
    firstError,
    completed: latencies.length,
    elapsedMs: performance.now() - started,
    timedOut,
  };
}

/** Runs `fn` over `items` with at most `size` in flight (set-up work, not measured). */
export async function pool<T>(items: readonly T[], size: number, fn: (item: T, i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(size, items.length)) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

/** Polls `probe` until it returns something truthy or `timeoutMs` passes (then returns undefined). */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  everyMs = 50,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const ms = (value: number): string =>
  Number.isNaN(value)
    ? 'n/a'
    : value >= 100
      ? value.toFixed(0)
      : value >= 10
        ? value.toFixed(1)
        : value.toFixed(2);

export const rate = (count: number, elapsedMs: number): number =>
  elapsedMs > 0 ? (count * 1000) / elapsedMs : 0;
