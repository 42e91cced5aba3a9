/** HMAC-SHA256 signatures over request records, with a key derived from AWS_ACCESS_HMAC_KEY. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RecordSigner } from '../domain/request-ports.js';

export function hmacRecordSigner(key: Buffer): RecordSigner {
  const sign = (content: string) => createHmac('sha256', key).update(content).digest('base64url');
  return {
    sign,
    verify(content, signature) {
      if (!signature) return false;
      const wanted = Buffer.from(sign(content));
      const given = Buffer.from(signature);
      return wanted.length === given.length && timingSafeEqual(wanted, given);
    },
  };
}
