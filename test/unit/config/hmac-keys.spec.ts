import { describe, expect, it } from 'vitest';
import { hmacKeysFrom, MIN_HMAC_KEY_LENGTH } from '../../../src/config/hmac-keys.js';
import { ErrorCode } from '../../../src/errors.js';

describe('AWS_ACCESS_HMAC_KEY', () => {
  it('refuses a missing key, saying it is not set', () => {
    expect(() => hmacKeysFrom(undefined)).toThrow(/^AWS_ACCESS_HMAC_KEY is not set: /);
    expect(() => hmacKeysFrom('')).toThrow(/^AWS_ACCESS_HMAC_KEY is not set: /);
  });

  it('refuses a key that is set but too short, saying so (not "is not set")', () => {
    let error: unknown;
    try {
      hmacKeysFrom('x'.repeat(MIN_HMAC_KEY_LENGTH - 1));
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: ErrorCode.MissingSetting });
    expect((error as Error).message).toMatch(
      new RegExp(`^AWS_ACCESS_HMAC_KEY is too short \\(${MIN_HMAC_KEY_LENGTH - 1} characters\\): `),
    );
  });

  it('derives distinct keys per purpose from a long enough secret', () => {
    const keys = hmacKeysFrom('x'.repeat(MIN_HMAC_KEY_LENGTH));
    expect(keys.auditChain).toHaveLength(32);
    expect(keys.requestRecord).toHaveLength(32);
    expect(keys.auditChain.equals(keys.requestRecord)).toBe(false);
  });
});
