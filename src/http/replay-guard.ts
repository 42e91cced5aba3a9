/**
 * Remembers every verified Slack request signature for longer than Slack's 5-minute window, so
 * one captured request cannot be played twice. Only called after the signature is verified:
 * unsigned junk never writes to Redis. Keys are hashed (the signature itself is not stored) and
 * live under the config's `redis.prefix`; shared by every web replica.
 *
 * The checks of the requests that arrive together are sent to Redis as one pipeline: a check
 * waits for the end of the event-loop turn (`setImmediate`), so every request whose body was
 * read in the same turn shares one socket write and one read. On a busy web process that is one
 * system call pair for several requests instead of one each; the #14 profile had the replay
 * check's socket write alone at a sixth of the process's CPU (docs/benchmarks.md, section 1).
 * A lone request waits for nothing but the rest of its own turn. Under Redis Cluster the keys
 * share the prefix's hash tag, so a pipeline never spans slots.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Longer than Slack's 5-minute timestamp window plus our 5-minute future skew. */
export const REPLAY_WINDOW_SECONDS = 600;

export interface ReplayGuard {
  /** True the first time a signature/timestamp pair is seen within the window, false after. */
  firstUse(signature: string, timestamp: string): Promise<boolean>;
}

interface PendingCheck {
  key: string;
  resolve: (first: boolean) => void;
  reject: (error: unknown) => void;
}

export class RedisReplayGuard implements ReplayGuard {
  private pending: PendingCheck[] = [];

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly windowSeconds = REPLAY_WINDOW_SECONDS,
  ) {}

  key(signature: string, timestamp: string): string {
    const digest = createHash('sha256').update(`${timestamp}:${signature}`).digest('hex');
    return `${this.prefix}:slack-replay:${digest}`;
  }

  firstUse(signature: string, timestamp: string): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ key: this.key(signature, timestamp), resolve, reject });
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    const pipeline = this.redis.pipeline();
    for (const check of batch) pipeline.set(check.key, '1', 'EX', this.windowSeconds, 'NX');
    pipeline.exec().then(
      (results) => {
        batch.forEach((check, i) => {
          const [error, reply] = results?.[i] ?? [new Error('Redis returned no reply for the replay check')];
          if (error) check.reject(error);
          else check.resolve(reply === 'OK');
        });
      },
      (error: unknown) => batch.forEach((check) => check.reject(error)),
    );
  }
}
