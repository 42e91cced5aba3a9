import { Redis, type RedisOptions } from 'ioredis';

/**
 * `worker` connections block (BullMQ workers) and must retry forever; `client` connections
 * serve Slack requests and fail fast so a Redis outage becomes an error, not a hang.
 */
export function createRedis(
  url: string,
  kind: 'client' | 'worker' = 'client',
  extra: RedisOptions = {},
): Redis {
  const options: RedisOptions =
    kind === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true, ...extra }
      : { maxRetriesPerRequest: 2, enableOfflineQueue: true, connectTimeout: 5000, ...extra };
  return new Redis(url, options);
}

export async function pingWithTimeout(redis: Redis, ms = 1000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
