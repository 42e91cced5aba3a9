/**
 * Keys derived from `AWS_ACCESS_HMAC_KEY`, one per purpose (HKDF-SHA256), so a key that leaks
 * from one use does not open another and one secret is all an operator has to keep.
 */
import { hkdfSync } from 'node:crypto';
import { AppError, ErrorCode, MissingSettingError } from '../errors.js';

export const MIN_HMAC_KEY_LENGTH = 32;

export type HmacKeyPurpose = 'audit-chain' | 'request-record';

export interface HmacKeys {
  auditChain: Buffer;
  requestRecord: Buffer;
}

function derive(master: string, purpose: HmacKeyPurpose): Buffer {
  return Buffer.from(hkdfSync('sha256', master, 'aws-access-bot', purpose, 32));
}

const WHY = `a secret of at least ${MIN_HMAC_KEY_LENGTH} characters keys the audit chain and signs request records (e.g. \`openssl rand -hex 32\`); keep it in the same Secret as the Slack tokens, never in Redis`;

/**
 * Throws a MissingSetting error when the key is missing (MissingSettingError) or too short to be
 * a secret (same code, a message that says so).
 */
export function hmacKeysFrom(master: string | undefined): HmacKeys {
  if (!master) throw new MissingSettingError('AWS_ACCESS_HMAC_KEY', WHY);
  if (master.length < MIN_HMAC_KEY_LENGTH) {
    throw new AppError(
      ErrorCode.MissingSetting,
      `AWS_ACCESS_HMAC_KEY is too short (${master.length} characters): ${WHY}`,
    );
  }
  return { auditChain: derive(master, 'audit-chain'), requestRecord: derive(master, 'request-record') };
}
