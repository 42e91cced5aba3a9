/**
 * The request lifecycle's shapes: what the use cases are given (deps, settings) and what they
 * answer (ActionResult, Prepared). The facade (request-service.ts) re-exports them.
 */
import type { AccessRequest } from '../access-request.js';
import type {
  AccountRef,
  ApprovalRule,
  DurationLimits,
  GrantPath,
  Person,
  Refusal,
} from '../approval-policy.js';
import type { AuditLog } from '../audit-event.js';
import type { EffectiveAccess, EffectiveAccessReader } from '../effective-access.js';
import type { IdentitySettings } from '../identity.js';
import type { OnCallDirectory, OnCallSchedule } from '../on-call.js';
import type { GroupNotifier, RequestGroupStore } from '../request-group.js';
import type {
  Account,
  AccountDirectory,
  Clock,
  GrantEngine,
  TemplateCatalog,
  TemplateInfo,
} from '../ports.js';
import type {
  PeopleDirectory,
  RecordSigner,
  RequestNotifier,
  RequestScheduler,
  RequestStore,
} from '../request-ports.js';

export interface RequestSettings {
  rules: readonly ApprovalRule[];
  limits: DurationLimits & { expiryWarning: number };
  identities: IdentitySettings;
  /** When non-empty, only members may request. */
  requesterGroups: readonly string[];
  /** Members may revoke any grant. */
  adminGroups: readonly string[];
  region?: string;
  /** Most accounts one multi-account request may cover (requests.maxAccountsPerRequest); 20 when unset. */
  maxAccountsPerRequest?: number;
  /** The configured accounts: what a template's `allowedAccounts` names resolve to (ids). */
  accountRefs?: readonly AccountRef[];
}

export interface RequestServiceDeps {
  store: RequestStore;
  audit: AuditLog;
  grants: GrantEngine;
  accounts: AccountDirectory;
  templates: TemplateCatalog;
  people: PeopleDirectory;
  scheduler: RequestScheduler;
  notifier: RequestNotifier;
  /** Signs request records and counted approvals; provisioning checks both. */
  signer: RecordSigner;
  clock: Clock;
  newId: () => string;
  settings: RequestSettings;
  /** Who is on call now on the schedules rules name; without it no schedule can be read. */
  onCall?: OnCallDirectory;
  /** Multi-account requests (requests/group.ts); without it only single-account requests are taken. */
  groups?: RequestGroupStore;
  /** Tells the people of a multi-account request (one approvers' message, one DM). */
  groupNotifier?: GroupNotifier;
  /** Failures that must not stop the flow (a Slack post, an audit mirror) are reported here. */
  onError: (error: unknown, context: string) => void;
  /** What SCPs leave of a template in an account; without it requests carry no such snapshot. */
  effectiveAccess?: EffectiveAccessReader;
}

export interface RequestDraft {
  requesterId: string;
  account: string;
  template: string;
  durationSeconds: number;
  reason: string;
}

export interface PreparedRequest {
  requester: Person;
  principalArn: string;
  principalSessionName?: string;
  /** Approvers, the rule's auto-approval, or its break-glass allowance for this requester. */
  grantPath: GrantPath;
  /** `grantPath` 'on-call': the schedules the requester is on call on now. */
  onCallSchedules?: OnCallSchedule[];
  account: Account;
  template: TemplateInfo;
  rule: ApprovalRule;
  durationSeconds: number;
  reason: string;
  /** The snapshot the request will carry (see AccessRequest.effectiveAccess). */
  effectiveAccess?: EffectiveAccess;
}

export type Prepared = { ok: true; prepared: PreparedRequest } | { ok: false; refusals: Refusal[] };
/** `changed: false` marks an idempotent repeat (e.g. a revoke job for a grant already revoked). */
export type ActionResult =
  { ok: true; request: AccessRequest; message: string; changed?: boolean } | { ok: false; refusal: Refusal };

/** The grant engine failed; the request has been moved to failed / revoke-failed as appropriate. */
export class GrantOperationError extends Error {
  constructor(
    message: string,
    readonly requestId: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GrantOperationError';
  }
}

export const SYSTEM_ACTOR = 'system';
