/**
 * Requests put straight into the store by tests, signed as the bot would sign them (or not, to
 * play someone who can write Redis but does not hold AWS_ACCESS_HMAC_KEY).
 */
import { systemClock } from '../../src/clock.js';
import type { AccessRequest } from '../../src/domain/access-request.js';
import { approvalContent, requestContent } from '../../src/domain/request-integrity.js';
import type { RunningService } from '../../src/main.js';
import { hmacRecordSigner } from '../../src/store/record-signer.js';
import { RedisRequestStore } from '../../src/store/request-store.js';

/**
 * Stores `request` with the bot's signature and, for each approver, an approval with the bot's
 * proof (as `approve` records them).
 */
export async function storeAsTheBot(
  service: RunningService,
  prefix: string,
  request: AccessRequest,
  approverIds: readonly string[] = [],
): Promise<AccessRequest> {
  const signer = hmacRecordSigner(service.keys.requestRecord);
  const store = new RedisRequestStore(service.redis, prefix, systemClock);
  const signed = { ...request, signature: signer.sign(requestContent(request)) };
  await store.create(signed);
  for (const approverId of approverIds) {
    await service.redis.zadd(`${prefix}:request:${request.id}:approvals`, request.createdAt, approverId);
    await store.setApprovalProof(
      request.id,
      approverId,
      signer.sign(approvalContent(request.id, approverId)),
    );
  }
  return signed;
}
