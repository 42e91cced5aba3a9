/**
 * One account's posture review as a use case: read the authorization details (the reader's
 * paged GetAccountAuthorizationDetails), learn what the bot wrote on its own roles, evaluate,
 * and name an owner for each finding about a user or role as credential hygiene does (tags,
 * identity map). Groups and policies have no owner: their findings go to the security channel.
 */
import { emailsToLookUp, resolveOwner, type IdentityMapEntry, type OwnerInput } from '../hygiene/owners.js';
import type { Owner } from '../hygiene/types.js';
import { reviewPosture, type PostureReview } from './evaluate.js';
import type {
  AccessRoleExpectation,
  AuthorizationDetails,
  IamRole,
  PolicySimulator,
  PostureSettings,
} from './types.js';

export interface PostureReader {
  read(accountId: string): Promise<AuthorizationDetails>;
  /** The roles only (one call per 1,000 roles): what the drift check after each reconcile reads. */
  readRoles(accountId: string): Promise<IamRole[]>;
}

export interface PostureReviewDeps {
  reader: PostureReader;
  simulator: PolicySimulator;
  /**
   * What the bot wrote on the account's `/aws-access/` roles (from the active requests);
   * undefined skips the drift check (no request store at hand).
   */
  accessRoles(accountId: string): Promise<ReadonlyMap<string, AccessRoleExpectation> | undefined>;
  /** Slack ids for owner e-mail tags; an empty map when no directory is at hand. */
  slackIdsByEmail(emails: string[]): Promise<ReadonlyMap<string, string | undefined>>;
  settings: PostureSettings;
  identityMap: Record<string, IdentityMapEntry>;
  now: Date;
}

export interface AccountPostureReview extends PostureReview {
  accountId: string;
  /** Users + groups + roles + policies read. */
  entityCount: number;
}

export async function reviewAccountPosture(
  deps: PostureReviewDeps,
  accountId: string,
): Promise<AccountPostureReview> {
  const details = await deps.reader.read(accountId);
  const review = await reviewPosture(details, {
    settings: deps.settings,
    now: deps.now,
    accessRoles: await deps.accessRoles(accountId),
    simulator: deps.simulator,
  });
  const owned: OwnerInput[] = [
    ...details.users.map((u) => ({ userName: u.name, userArn: u.arn, tags: u.tags })),
    ...details.roles.map((r) => ({ userName: r.name, userArn: r.arn, tags: r.tags })),
  ];
  const emails = await deps.slackIdsByEmail(emailsToLookUp(owned, deps.identityMap));
  const owners = new Map<string, Owner>(
    owned.map((o) => [o.userArn, resolveOwner(o, deps.identityMap, emails)]),
  );
  // Drift of the bot's own roles is the security team's to look at, whoever asked for the grant.
  const findings = review.findings.map((f) =>
    f.kind === 'access-role-drift' ? f : { ...f, owner: owners.get(f.arn) },
  );
  return {
    accountId,
    entityCount:
      details.users.length + details.groups.length + details.roles.length + details.policies.length,
    findings,
    exempted: review.exempted,
  };
}
