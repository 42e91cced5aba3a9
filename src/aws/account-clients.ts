/**
 * How adapters get AWS clients that act inside a target account: through the broker role
 * session for that account (see broker sessions). Implemented by the AWS grant engine's session
 * cache; hygiene and reconcile use the same sessions.
 */
import type { IAMClient } from '@aws-sdk/client-iam';
import type { STSClient } from '@aws-sdk/client-sts';

export interface AccountClients {
  /** IAM client in us-east-1 acting as the broker role of `accountId`. */
  iam(accountId: string): Promise<IAMClient>;
  /** STS client acting as the broker role of `accountId` (to mint requester sessions). */
  sts(accountId: string): Promise<STSClient>;
}
