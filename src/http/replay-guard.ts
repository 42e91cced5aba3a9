/**
 * Remembers every verified Slack request signature for longer than Slack's 5-minute window, so
 * one captured request cannot be played twice. Only called after the signature is verified:
 * unsigned junk never writes to Redis. Keys are hashed (the signature itself is not stored) and
 * live under the config's `redis.prefix`; shared by every web replica.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Longer than Slack's 5-minute timestamp window plus our 5-minute future skew. */
export const REPLAY_WINDOW_SECONDS = 600;

export interface ReplayGuard {
  /** True the first time a signature/timestamp pair is seen within the window, false after. */
  firstUse(signature: string, timestamp: string): Promise<boolean>;
}

export class RedisReplayGuard implements ReplayGuard {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly windowSeconds = REPLAY_WINDOW_SECONDS,
  ) {}

  key(signature: string, timestamp: string): string {
    const digest = createHash('sha256').update(`${timestamp}:${signature}`).digest('hex');
    return `${this.prefix}:slack-replay:${digest}`;
  }

  async firstUse(signature: string, timestamp: string): Promise<boolean> {
    const set = await this.redis.set(this.key(signature, timestamp), '1', 'EX', this.windowSeconds, 'NX');
    return set === 'OK';
  }
}
