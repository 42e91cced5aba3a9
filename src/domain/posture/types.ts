/**
 * What `GetAccountAuthorizationDetails` says about one account's IAM, reduced to what the posture
 * review decides with, and the findings it makes. Pure data; `aws/posture-reader.ts` fills it in.
 * Policy documents are parsed JSON (IAM returns them URL-encoded).
 */
import type { Owner } from '../hygiene/types.js';
import type { PostureKind } from './kinds.js';

export interface InlinePolicy {
  name: string;
  document: unknown;
}

export interface AttachedPolicy {
  name: string;
  arn: string;
}

interface Principal {
  name: string;
  arn: string;
  path: string;
  createdAt?: Date;
  inlinePolicies: InlinePolicy[];
  attachedPolicies: AttachedPolicy[];
}

export interface IamUser extends Principal {
  tags: Record<string, string>;
  /** Group names. */
  groups: string[];
  permissionsBoundaryArn?: string;
}

export type IamGroup = Principal;

export interface IamRole extends Principal {
  tags: Record<string, string>;
  trustPolicy: unknown;
  permissionsBoundaryArn?: string;
  lastUsedAt?: Date;
}

export interface ManagedPolicy {
  name: string;
  arn: string;
  path: string;
  /** AWS-managed (`arn:aws:iam::aws:policy/…`), as opposed to customer-managed. */
  awsManaged: boolean;
  attachmentCount: number;
  /** How many users and roles use it as their permissions boundary. */
  boundaryUsageCount: number;
  /** The default version's document. */
  document: unknown;
}

export interface AuthorizationDetails {
  accountId: string;
  users: IamUser[];
  groups: IamGroup[];
  roles: IamRole[];
  policies: ManagedPolicy[];
}

export interface PostureFinding {
  /** Stable while the thing is unchanged: `<kind>:<arn>[:<policy>]`. */
  id: string;
  kind: PostureKind;
  accountId: string;
  /** The user, group, role or policy the finding is about. */
  arn: string;
  /** One line a person can read. */
  detail: string;
  owner?: Owner;
}

/** A configured exemption (config `posture.exemptions`). */
export interface PostureExemption {
  arn?: string;
  tag?: { key: string; value?: string };
  kinds?: PostureKind[];
  reason: string;
}

export interface PostureSettings {
  unusedRoleDays: number;
  /** Accounts a role may trust without a condition: the bot's accounts and `posture.trustedAccounts`. */
  trustedAccounts: string[];
  exemptions: PostureExemption[];
}

/**
 * What the bot wrote on one `/aws-access/` role, from the store's active request and its
 * template; undefined when no active request explains the role.
 */
export interface AccessRoleExpectation {
  managedPolicyArns: string[];
  /** Inline policy names the bot may have put on the role. */
  inlinePolicyNames: string[];
  boundaryArn: string;
  /** The AWS principals the trust policy may name (requester and broker). */
  trustedPrincipals: string[];
}

/** Everything the evaluation needs besides the details. */
export interface PostureContext {
  settings: PostureSettings;
  now: Date;
  /**
   * Role name → what the bot wrote, for the `/aws-access/` roles of active requests; undefined
   * when the requests cannot be read (the drift check is then skipped, not guessed).
   */
  accessRoles: ReadonlyMap<string, AccessRoleExpectation> | undefined;
  simulator: PolicySimulator;
}

/** One question to the policy simulator: may a principal with these policies do this? */
export interface SimulationQuestion {
  principalArn: string;
  action: string;
  resource: string;
  identityPolicies: unknown[];
  boundary?: unknown;
}

/** The policy simulator port (`aws/policy-simulator.ts`). Identity policies only, no SCPs. */
export interface PolicySimulator {
  allows(question: SimulationQuestion): Promise<boolean>;
}
