/**
 * Per-test access to the shared real services: Redis with a unique key prefix, and moto with a
 * reset between tests. Redis is whatever topology the global setup started
 * (`TEST_REDIS_TOPOLOGY`): every connection of a test goes through `createRedis(redisTarget())`
 * and every config from `testConfig` names the same cluster or Sentinels, so the app under test
 * and the test's own clients see the same data.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis, RedisOptions } from 'ioredis';
import { inject } from 'vitest';
import { parseConfigText, type LoadedConfig } from '../../src/config/load-config.js';
import type { AppConfig } from '../../src/config/schema.js';
import { createRedis, isCluster, type RedisTarget } from '../../src/store/redis-connection.js';
import type { RedisTopology } from './local-servers.js';

export const FIXTURES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');

export function redisUrl(): string {
  return inject('redisUrl');
}

/** The Redis the tests run against (URL alone, or with the cluster or the Sentinels). */
export function redisTarget(): RedisTarget {
  return inject('redisTarget');
}

export function redisTopology(): RedisTopology {
  return inject('redisTopology');
}

/** A connection to the test Redis, whatever its topology (`kind` as in createRedis). */
export function connectRedis(kind: 'client' | 'worker' = 'client', extra: RedisOptions = {}): Redis {
  return createRedis(redisTarget(), kind, extra);
}

export function awsEndpointUrl(): string {
  return inject('awsEndpointUrl');
}

/**
 * A key prefix no other test uses, so tests never see each other's data. On a Redis Cluster it
 * is a hash tag (`{t-…}`), as validate requires there.
 */
export function uniquePrefix(label = 't'): string {
  const prefix = `${label}-${randomBytes(5).toString('hex')}`;
  return redisTopology() === 'cluster' ? `{${prefix}}` : prefix;
}

/** Deletes every key starting with `prefix`, on each master of a cluster. */
async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  const nodes = isCluster(redis)
    ? (redis as unknown as { nodes(role: 'master'): Redis[] }).nodes('master')
    : [redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(
        cursor,
        'MATCH',
        `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`,
        'COUNT',
        500,
      );
      cursor = next;
      // On a cluster they all carry the prefix's hash tag: one slot, one DEL.
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  }
}

/** A Redis client for a test; call `cleanup()` (or use `withRedis`) to delete the prefix's keys. */
export async function testRedis(prefix: string): Promise<{ redis: Redis; cleanup: () => Promise<void> }> {
  const redis = connectRedis();
  return {
    redis,
    cleanup: async () => {
      await deletePrefix(redis, prefix);
      await redis.quit();
    },
  };
}

/** Wipes every moto backend: call in beforeEach of tests that use AWS. */
export async function resetMoto(): Promise<void> {
  const res = await fetch(`${awsEndpointUrl()}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`moto reset failed: ${res.status}`);
}

export const TEST_CONFIG_FILE = path.join(FIXTURES_DIR, 'config.yaml');

/** The test config with a unique Redis prefix; `mutate` may adjust it (already parsed). */
export function testConfig(mutate?: (config: AppConfig) => void, prefix = uniquePrefix()): LoadedConfig {
  const config = parseConfigText(TEST_CONFIG_FILE, readFileSync(TEST_CONFIG_FILE, 'utf8'));
  config.redis.prefix = prefix;
  const target = redisTarget();
  if (target.cluster) config.redis.cluster = target.cluster;
  if (target.sentinel) config.redis.sentinel = target.sentinel;
  mutate?.(config);
  return { file: TEST_CONFIG_FILE, baseDir: FIXTURES_DIR, config };
}

/**
 * The `redis:` section of a config file for this prefix and the test Redis topology (for tests
 * that write a config file for the CLI or a child process).
 */
export function redisConfigYaml(prefix: string): string {
  const target = redisTarget();
  const section = {
    prefix,
    ...(target.cluster ? { cluster: target.cluster } : {}),
    ...(target.sentinel ? { sentinel: target.sentinel } : {}),
  };
  // JSON is YAML: the prefix's braces stay a string.
  return `redis: ${JSON.stringify(section)}\n`;
}
