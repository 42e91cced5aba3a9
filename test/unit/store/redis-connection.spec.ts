import { describe, expect, it } from 'vitest';
import { createRedis, credentialsOf, isCluster, redisTarget } from '../../../src/store/redis-connection.js';

describe('the Redis connection factory', () => {
  it('takes user, password, TLS and database from REDIS_URL', () => {
    expect(credentialsOf('rediss://bot:s%40cret@redis.internal:6380/2')).toEqual({
      username: 'bot',
      password: 's@cret',
      tls: {},
      db: 2,
    });
    expect(credentialsOf('redis://127.0.0.1:6379')).toEqual({});
    expect(credentialsOf('redis://:pw@h:1')).toEqual({ password: 'pw' });
  });

  it('builds the target from the environment and the config', () => {
    expect(redisTarget({ redisUrl: 'redis://h:1' }, {})).toEqual({ url: 'redis://h:1' });
    expect(
      redisTarget(
        { redisUrl: 'redis://:pw@h:1', redisSentinelPassword: 'sp' },
        { sentinel: { name: 'm', sentinels: [{ host: 's', port: 2 }] } },
      ),
    ).toEqual({
      url: 'redis://:pw@h:1',
      sentinel: { name: 'm', sentinels: [{ host: 's', port: 2 }] },
      sentinelPassword: 'sp',
    });
  });

  it('a cluster connection carries the per-node options BullMQ checks (worker: maxRetriesPerRequest null)', () => {
    const cluster = createRedis(
      { url: 'redis://:pw@ignored:1', cluster: { nodes: [{ host: '127.0.0.1', port: 1 }] } },
      'worker',
      { lazyConnect: true },
    );
    try {
      expect(isCluster(cluster)).toBe(true);
      const options = (cluster as unknown as { options: { redisOptions: Record<string, unknown> } }).options;
      expect(options.redisOptions).toMatchObject({ maxRetriesPerRequest: null, password: 'pw' });
    } finally {
      cluster.disconnect();
    }
    const single = createRedis('redis://127.0.0.1:1', 'client', { lazyConnect: true });
    try {
      expect(isCluster(single)).toBe(false);
      expect(single.options).toMatchObject({ maxRetriesPerRequest: 2, port: 1 });
    } finally {
      single.disconnect();
    }
  });
});
