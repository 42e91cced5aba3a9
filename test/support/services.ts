/**
 * Per-test access to the shared real services: Redis with a unique key prefix, and moto with a
 * reset between tests.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { parseConfigText, type LoadedConfig } from '../../src/config/load-config.js';
import type { AppConfig } from '../../src/config/schema.js';

export const FIXTURES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');

export function redisUrl(): string {
  return inject('redisUrl');
}

export function awsEndpointUrl(): string {
  return inject('awsEndpointUrl');
}

/** A key prefix no other test uses, so tests never see each other's data. */
export function uniquePrefix(label = 't'): string {
  return `${label}-${randomBytes(5).toString('hex')}`;
}

/** A Redis client for a test; call `cleanup()` (or use `withRedis`) to delete the prefix's keys. */
export async function testRedis(prefix: string): Promise<{ redis: Redis; cleanup: () => Promise<void> }> {
  const redis = new Redis(redisUrl(), { maxRetriesPerRequest: 2 });
  return {
    redis,
    cleanup: async () => {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== '0');
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
  mutate?.(config);
  return { file: TEST_CONFIG_FILE, baseDir: FIXTURES_DIR, config };
}
