/**
 * An AccessRequest and its lifecycle. Pure: the store enforces these transitions atomically,
 * the service decides which one to ask for.
 *
 * pending ─approve (N of M)─▶ approved ─provision─▶ active ─expire / revoke─▶ revoked
 *    │ └─deny─▶ denied           └─fail─▶ failed           └─revoke fails─▶ revoke-failed
 *    ├─cancel─▶ cancelled
 *    └─TTL─▶ expired-unapproved
 */
export const REQUEST_STATES = [
  'pending',
  'approved',
  'active',
  'revoked',
  'denied',
  'cancelled',
  'expired-unapproved',
  'failed',
  'revoke-failed',
] as const;
export type RequestState = (typeof REQUEST_STATES)[number];

/** Which states each state may move to. `active → active` is an extension (expiry rewritten). */
export const TRANSITIONS: Readonly<Record<RequestState, readonly RequestState[]>> = {
  pending: ['approved', 'denied', 'cancelled', 'expired-unapproved'],
  // approved → revoke-failed: the grant failed after its role was created and the role could not
  // be removed (GrantRollbackError). Never `failed` ("nothing was granted") with a live role: the
  // request records the role and reconcile's revoke-failed retry removes it.
  approved: ['active', 'failed', 'revoke-failed'],
  active: ['active', 'revoked', 'revoke-failed'],
  // A failed revocation is retried (reconcile, the revoke job, an operator) until it succeeds.
  'revoke-failed': ['revoked', 'revoke-failed'],
  revoked: [],
  denied: [],
  cancelled: [],
  'expired-unapproved': [],
  failed: [],
};

export function canTransition(from: RequestState, to: RequestState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isRequestState(value: string): value is RequestState {
  return (REQUEST_STATES as readonly string[]).includes(value);
}

/** A state nothing can leave: the request's story is over. */
export function isFinal(state: RequestState): boolean {
  return TRANSITIONS[state].length === 0;
}

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
  /** Break-glass only: the approver who reviewed the use afterwards (set once, never changed). */
  reviewedBy?: string;
  reviewedAt?: number;
}

export interface PendingExtension {
  seconds: number;
  requestedAt: number;
  /** Approver ids counted so far, each once. */
  approvals: string[];
  /** The approvers' message about this extension. */
  message?: { channel: string; ts: string };
}

/** What a requester can still act on. */
export const OPEN_STATES: readonly RequestState[] = ['pending', 'approved', 'active', 'revoke-failed'];

export function describeState(state: RequestState): string {
  switch (state) {
    case 'pending':
      return 'waiting for approval';
    case 'approved':
      return 'approved, granting';
    case 'active':
      return 'active';
    case 'revoked':
      return 'revoked';
    case 'denied':
      return 'denied';
    case 'cancelled':
      return 'cancelled';
    case 'expired-unapproved':
      return 'expired without a decision';
    case 'failed':
      return 'failed to grant';
    case 'revoke-failed':
      return 'revocation failed (retrying)';
  }
}
