import { describe, expect, it } from 'vitest';
import { findBinary, MissingBinaryError, startRedisServer } from '../support/local-servers.js';

describe('the test harness start-up', () => {
  it('names the missing binary and how to install it', async () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(startRedisServer()).rejects.toThrow(MissingBinaryError);
      await expect(startRedisServer()).rejects.toThrow(
        /redis-server is not installed.*apt-get install redis-server/,
      );
    } finally {
      process.env.PATH = saved;
    }
  });

  it('finds binaries on PATH', () => {
    expect(findBinary('redis-server')).toMatch(/redis-server$/);
    expect(findBinary('definitely-not-a-binary-xyz')).toBeUndefined();
  });
});
