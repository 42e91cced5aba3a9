/**
 * The posture review's wiring, shared by the daily sweep and `aws-access-bot posture`: the
 * paged authorization-details reader on the broker sessions, the in-process policy simulator,
 * the grant engine's expectations for the `/aws-access/` roles of the requests that hold one,
 * and the settings from config.
 */
import type { AccountClients } from '../aws/account-clients.js';
import { iamPolicySimulator, type SimulatorLog } from '../aws/policy-simulator.js';
import { accessRoleExpectations, type GrantNaming } from '../aws/posture-expectations.js';
import { awsPostureReader } from '../aws/posture-reader.js';
import type { AppConfig } from '../config/schema.js';
import type { AccessRequest } from '../domain/access-request.js';
import { ROLE_STATES } from '../domain/model/state.js';
import type { PostureReviewDeps } from '../domain/posture/review-account.js';
import type { AccessRoleExpectation, PostureSettings } from '../domain/posture/types.js';
import type { RequestState } from '../domain/model/state.js';

/** More than any deployment holds at once; the index is read in one ZRANGE per state. */
const ROLE_HOLDER_LIMIT = 100_000;

export function postureSettings(config: AppConfig, knownAccounts: string[] = []): PostureSettings {
  const p = config.posture;
  return {
    unusedRoleDays: p.unusedRoleDays,
    trustedAccounts: [
      ...new Set([...config.aws.accounts.map((a) => a.id), ...knownAccounts, ...p.trustedAccounts]),
    ],
    exemptions: [
      ...p.exemptions,
      {
        // The broker role carries inline policies and the IAM rights grants need by design
        // (deploy/aws/broker-role.yaml); shown as exempted, never silently skipped.
        arn: `arn:*:iam::*:role/${config.aws.brokerRoleName}`,
        kinds: ['inline-policy', 'admin-equivalent'],
        reason: "the bot's broker role (deploy/aws/broker-role.yaml)",
      },
    ],
  };
}

export interface PostureWiring {
  config: AppConfig;
  accounts: AccountClients;
  naming: GrantNaming;
  /** Requests by state (the request store's index); undefined skips the drift check. */
  listByState?: (state: RequestState, limit: number) => Promise<AccessRequest[]>;
  slackIdsByEmail?: PostureReviewDeps['slackIdsByEmail'];
  /** The accounts the bot serves (Organizations included): trusted like aws.accounts. */
  knownAccounts?: string[];
  log?: SimulatorLog;
  now: Date;
}

export function postureReviewDeps(wiring: PostureWiring): PostureReviewDeps {
  let holders: Promise<AccessRequest[]> | undefined;
  const { listByState } = wiring;
  const roleHolders = (list: NonNullable<typeof listByState>) =>
    (holders ??= Promise.all(ROLE_STATES.map((s) => list(s, ROLE_HOLDER_LIMIT))).then((l) => l.flat()));
  return {
    reader: awsPostureReader(wiring.accounts),
    simulator: iamPolicySimulator(wiring.log),
    accessRoles: async (accountId): Promise<ReadonlyMap<string, AccessRoleExpectation> | undefined> =>
      listByState
        ? accessRoleExpectations(wiring.naming, accountId, await roleHolders(listByState))
        : undefined,
    slackIdsByEmail: wiring.slackIdsByEmail ?? (async () => new Map()),
    settings: postureSettings(wiring.config, wiring.knownAccounts),
    identityMap: wiring.config.identities.map,
    now: wiring.now,
  };
}
