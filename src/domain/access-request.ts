/** An AccessRequest: what was asked, by whom, decided how, and where its grant stands. */
import type { EffectiveAccess } from './effective-access.js';
import type { RequestState } from './model/state.js';

export {
  canTransition,
  describeState,
  FINAL_STATES,
  ForbiddenTransitionError,
  holdsRole,
  isFinal,
  isRequestState,
  OPEN_STATES,
  REQUEST_STATES,
  ROLE_STATES,
  TRANSITIONS,
  type RequestState,
} from './model/state.js';

export interface Approval {
  approverId: string;
  at: number;
}

export interface AccessRequest {
  id: string;
  /** Bumped by every stored change; a click carrying an older version acts on nothing. */
  version: number;
  state: RequestState;
  requesterId: string;
  requesterName?: string;
  /** The requester's Slack e-mail when the request was made: one person, whatever the account. */
  requesterEmail?: string;
  principalArn: string;
  /** Where `principalArn` is a shared role: the session name the grant's trust pins. */
  principalSessionName?: string;
  accountId: string;
  accountName: string;
  ouPath: Array<{ id: string; name: string }>;
  templateName: string;
  durationSeconds: number;
  reason: string;
  ruleName: string;
  approvalsRequired: number;
  approvals: Approval[];
  breakGlass: boolean;
  autoApproved: boolean;
  createdAt: number;
  updatedAt: number;
  /** When a pending request stops waiting (rule TTL). */
  pendingUntil: number;
  decidedBy?: string;
  decidedAt?: number;
  denyReason?: string;
  startsAt?: number;
  expiresAt?: number;
  revokedBy?: string;
  revokedAt?: number;
  roleArn?: string;
  roleName?: string;
  extensions: number;
  /** Why provisioning or revocation failed (no secrets: error codes and messages only). */
  failure?: string;
  /** Where the approver message lives, so it can be updated in place. */
  message?: { channel: string; ts: string };
  /** An extension waiting for the rule's approvers (rules without extensions.autoApprove). */
  pendingExtension?: PendingExtension;
  /**
   * HMAC (key outside Redis) over the fields fixed at creation: a record written straight into
   * Redis has none that verifies, so it is never granted.
   */
  signature?: string;
  /**
   * Set on each account's request of a multi-account request (requests/group.ts): the group it
   * belongs to. Signed with the creation fields; a single-account request has none.
   */
  groupId?: string;
  /** Break-glass only: the approver who reviewed the use afterwards (set once, never changed). */
  reviewedBy?: string;
  reviewedAt?: number;
  /**
   * What the organization's SCPs leave of the template in this account, as computed when the
   * request was made (effective-access.ts): renderers show it without asking AWS. Informative
   * only, so not part of the signed content; grants never read it.
   */
  effectiveAccess?: EffectiveAccess;
}

export interface PendingExtension {
  seconds: number;
  requestedAt: number;
  /** Approver ids counted so far, each once. */
  approvals: string[];
  /** The approvers' message about this extension. */
  message?: { channel: string; ts: string };
}
