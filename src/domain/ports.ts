/**
 * Ports: what the domain needs from the outside world, as interfaces. Adapters in aws/, store/,
 * slack/ and jobs/ implement them; domain code and tests depend only on these shapes.
 */

/** An AWS account as people see it: id, friendly name, and where it sits in the organization. */
export interface Account {
  id: string;
  name: string;
  aliases: string[];
  /** OUs from the root down to the account's parent; empty for a static account without a path. */
  ouPath: Array<{ id: string; name: string }>;
}

export interface AccountDirectory {
  listAccounts(): Promise<Account[]>;
  /** By 12-digit id, alias or name (case-insensitive). */
  findAccount(query: string): Promise<Account | undefined>;
}

export type AccessLevel = 'List' | 'Read' | 'Write' | 'Permissions management' | 'Tagging';

export interface ServiceAccessSummary {
  service: string;
  counts: Record<AccessLevel, number>;
}

/** What a template lets its holder do, per service, as approvers see it. */
export interface AccessLevelSummary {
  services: ServiceAccessSummary[];
  /** Warnings such as "Permissions management on iam" or "iam:PassRole". */
  flags: string[];
}

/** The parts of a boundary template the Slack flow and the approval policy need. */
export interface TemplateInfo {
  name: string;
  description: string;
  defaultDurationSeconds: number;
  maxDurationSeconds: number;
  /** Longest the grant may last including extensions. */
  maxTotalSeconds?: number;
  maxExtensions?: number;
  requiresMfa: boolean;
  breakGlass: boolean;
  allowedAccounts?: string[];
  allowedOus?: string[];
  summary: AccessLevelSummary;
}

export interface TemplateCatalog {
  list(): TemplateInfo[];
  get(name: string): TemplateInfo | undefined;
}

export interface Requester {
  slackUserId: string;
  /** The AWS principal the role will trust. */
  principalArn: string;
  displayName?: string;
  email?: string;
  /**
   * When `principalArn` is a role many people can assume (an Identity Center permission-set
   * role, a shared federation role), the session name that identifies this person in it. The
   * grant's trust then pins `aws:userid` to `*:<session name>`; a role principal without one is
   * refused, because the grant could not tell its users apart.
   */
  principalSessionName?: string;
}

export interface GrantRequest {
  requestId: string;
  accountId: string;
  templateName: string;
  requester: Requester;
  startsAt: Date;
  expiresAt: Date;
  region?: string;
  /**
   * The requester's Slack e-mail when they asked: how the identity-center backend finds their
   * Identity Center user when the identity map does not name it.
   */
  requesterEmail?: string;
}

/** How the requester uses a grant. Holds secrets in credentials mode: never store or log it. */
export interface Delivery {
  mode: 'assume' | 'credentials';
  accountId: string;
  roleArn: string;
  roleName: string;
  expiresAt: Date;
  /**
   * identity-center backend: the AWS access portal the requester signs in at; `roleArn` and
   * `roleName` are then the permission set's, and `switchRoleUrl` is the portal's shortcut to
   * the account and set.
   */
  accessPortalUrl?: string;
  /** assume mode */
  switchRoleUrl?: string;
  cliProfile?: string;
  /** credentials mode */
  consoleSignInUrl?: string;
  /** credentials mode: the federation endpoint could not be reached; Refresh tries again. */
  consoleSignInUnavailable?: boolean;
  envExports?: string;
  sessionExpiresAt?: Date;
}

export interface GrantResult {
  roleArn: string;
  roleName: string;
  delivery: Delivery;
}

export interface ManagedRole {
  accountId: string;
  roleName: string;
  /** From the role's name (`aws-access-<request id>`), never from its tags. */
  requestId?: string;
  expiresAt?: Date;
  /** The role's `aws-access:request-id` tag when it differs from the name's request id. */
  mismatchedTagRequestId?: string;
  /** IAM path, for roles that are not the bot's (`foreign`). */
  path?: string;
  /**
   * identity-center backend: the account assignment this entry stands for (`roleName` is then
   * the permission set's name). A `foreign` one is an assignment of a bot-owned set that no
   * request of the bot holds.
   */
  assignment?: { permissionSetArn: string; principalType: string; principalId: string };
}

export interface ReconcileReport {
  /** Roles whose request is not an active grant. */
  orphaned: ManagedRole[];
  /** Roles whose expires-at has passed. */
  overdue: ManagedRole[];
  /** Active grants whose role is missing. */
  missing: string[];
  /**
   * Roles under `/aws-access/` the bot cannot have made: under a sub-path, or not named
   * `aws-access-<request id>`. Someone else planted them where the bot's roles live.
   */
  foreign?: ManagedRole[];
  /** Roles (in any list above or none) whose request-id tag disagrees with their name. */
  tagMismatches?: ManagedRole[];
}

export interface GrantEngine {
  grant(request: GrantRequest): Promise<GrantResult>;
  /**
   * The name the engine gives (or gave) request `requestId`'s role, for texts about a role no
   * request records (an orphan reconcile removed). Optional so a wrapping engine need not know.
   */
  roleName?(requestId: string): string;
  /**
   * Idempotent: a role already gone counts as revoked. `what` names what was removed when it is
   * not the request's role (identity-center: the assignment), for messages.
   */
  revoke(accountId: string, requestId: string): Promise<{ removed: boolean; what?: string }>;
  extend(accountId: string, requestId: string, expiresAt: Date): Promise<void>;
  /** credentials mode: a fresh session for a grant that is still active. */
  refreshDelivery(accountId: string, requestId: string, requester: Requester): Promise<Delivery>;
  reconcile(accountId: string, activeGrants: ReadonlyMap<string, Date>): Promise<ReconcileReport>;
  /**
   * Who the requester is for this grant, when the backend finds people itself (identity-center:
   * their one Identity Center user, as `arn:<partition>:identitystore:::user/<id>`): the
   * principal, or a refusal in the requester's words. Undefined: the identity map and e-mail
   * template decide (iam-role). Asked when the request is made and again at grant time.
   */
  identify?(
    accountId: string,
    templateName: string,
    requester: { slackUserId: string; email?: string },
  ): Promise<{ principalArn: string } | { refusal: string } | undefined>;
  /** Removes a `foreign` role reconcile reported (neutered first, then deleted). */
  removeForeignRole?(accountId: string, role: ManagedRole): Promise<{ removed: boolean }>;
}

export interface Clock {
  now(): number;
}
