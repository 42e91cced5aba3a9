/**
 * Client-side limits on the IAM calls the bot makes inside each member account (`aws.concurrency`):
 * at most `perAccount` calls in flight and at most `callsPerSecond` started per second, evenly
 * spaced. IAM throttles per account, and reconcile and the hygiene sweep work on many accounts at
 * once: without a per-account pace, 40 ms calls one after another already run at 25 calls/s and
 * are throttled, and every throttled call costs a backed-off retry.
 *
 * The limit applies to each HTTP attempt (the middleware sits below the SDK's retry middleware),
 * so the SDK's own retries queue behind it as well, and a call waiting out its backoff holds no
 * slot. When IAM throttles anyway (another process, another tool in the account), the SDK's
 * standard retry mode backs off with jitter (aws-clients.ts). The limits are per process: N worker
 * replicas may reach N times them.
 *
 * Written here rather than taken from p-limit / p-queue: p-limit is only a dev dependency of the
 * tree, p-queue is a CommonJS dependency of @slack/web-api and neither is a direct dependency; the
 * limiter below is the 40 lines this needs (concurrency plus spacing).
 */
import type { IAMClient } from '@aws-sdk/client-iam';

export interface AccountCallLimitSettings {
  /** Calls in flight at once in one account. */
  perAccount: number;
  /** Calls started per second in one account; 0 for no rate limit. */
  callsPerSecond: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** At most `concurrency` tasks at once, started at least `intervalMs` apart, first come first served. */
export class CallLimiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private nextStart = 0;
  /** Most tasks ever in flight at once (tests and benches read it). */
  maxActive = 0;

  constructor(
    readonly concurrency: number,
    readonly intervalMs: number,
  ) {
    if (!(concurrency >= 1)) throw new RangeError('concurrency must be at least 1');
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private async acquire(): Promise<void> {
    if (this.active >= this.concurrency) {
      // release() hands its slot straight to the first waiter: `active` stays counted.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active += 1;
    }
    this.maxActive = Math.max(this.maxActive, this.active);
    if (this.intervalMs > 0) {
      const now = performance.now();
      const start = Math.max(now, this.nextStart);
      this.nextStart = start + this.intervalMs;
      if (start > now) await sleep(start - now);
    }
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active -= 1;
  }
}

/** One limiter per account, shared by every IAM client of this process acting in that account. */
export class AccountCallLimits {
  private readonly limiters = new Map<string, CallLimiter>();

  constructor(readonly settings: AccountCallLimitSettings) {}

  forAccount(accountId: string): CallLimiter {
    let limiter = this.limiters.get(accountId);
    if (!limiter) {
      const { perAccount, callsPerSecond } = this.settings;
      limiter = new CallLimiter(perAccount, callsPerSecond > 0 ? 1000 / callsPerSecond : 0);
      this.limiters.set(accountId, limiter);
    }
    return limiter;
  }

  /** Puts every HTTP attempt of `client` through the account's limiter. */
  limit(client: IAMClient, accountId: string): IAMClient {
    const limiter = this.forAccount(accountId);
    client.middlewareStack.add((next) => (args) => limiter.run(() => next(args)), {
      // The deserialize step runs inside the retry middleware, once per attempt, around the
      // HTTP exchange itself; a retry's backoff sleep happens outside it.
      step: 'deserialize',
      priority: 'low',
      name: 'awsAccessAccountCallLimit',
    });
    return client;
  }
}
