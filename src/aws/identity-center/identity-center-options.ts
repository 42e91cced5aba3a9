/** How the Identity Center grant engine is put together (src/aws/create-aws-services.ts fills these in). */
import type { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import type { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import type { Clock } from '../../domain/ports.js';
import type { Logger } from '../../logger.js';
import type { AssignmentHolders } from '../../store/assignment-holders.js';
import type { BoundaryTemplate } from '../../templates/boundary-template.js';
import type { PollOptions } from './operation-status.js';

export interface IdentityCenterOptions {
  /** sso-admin in the instance's region, with the bot's own credentials (management or delegated admin account). */
  ssoAdmin: SSOAdminClient;
  identitystore: IdentitystoreClient;
  instanceArn: string;
  identityStoreId: string;
  /** The instance's region: `sso_region` of the CLI profile. */
  instanceRegion: string;
  /** The access portal (`https://d-….awsapps.com/start`). */
  accessPortalUrl: string;
  /** `aws.region`: the CLI profile's region and `${region}` in templates. */
  region: string;
  partition: string;
  brokerRoleName: string;
  templates: { template(name: string): BoundaryTemplate | undefined };
  holders: AssignmentHolders;
  /** Slack user id → Identity Center user name (`identities.map.<id>.identityCenterUserName`). */
  userNames: ReadonlyMap<string, string>;
  /**
   * Writes the template's boundary `/aws-access/boundary-<T>` into the account (the iam-role
   * backend's boundary writer): the set's customer-managed boundary must exist there before the
   * set is provisioned. Tests on moto without it skip the write.
   */
  ensureBoundary?: (accountId: string, template: BoundaryTemplate) => Promise<unknown>;
  clock: Clock;
  logger?: Logger;
  poll?: PollOptions;
}
