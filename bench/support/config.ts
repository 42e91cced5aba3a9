/** The test suite's config file (test/fixtures/config.yaml) with a bench's own Redis prefix. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfigText, type LoadedConfig } from '../../src/config/load-config.js';
import type { AppConfig } from '../../src/config/schema.js';

export const FIXTURES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures');

export function benchConfig(prefix: string, mutate?: (config: AppConfig) => void): LoadedConfig {
  const file = path.join(FIXTURES_DIR, 'config.yaml');
  const config = parseConfigText(file, readFileSync(file, 'utf8'));
  config.redis.prefix = prefix;
  mutate?.(config);
  return { file, baseDir: FIXTURES_DIR, config };
}
