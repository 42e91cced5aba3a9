/**
 * The request lifecycle's one authority: which states exist and which moves between them are
 * allowed. The store refuses any other pair (the Lua script is given the allowed from-states from
 * this table); a change that keeps the state (a review, a pending extension, a message ref, an
 * extension's new end) is an annotation, not a transition.
 *
 * pending ─approve (N of M)─▶ approved ─provision─▶ active ─expire / revoke─▶ revoked
 *    │ └─deny─▶ denied           ├─fail─▶ failed            └─revoke fails─▶ revoke-failed ─▶ revoked
 *    ├─cancel─▶ cancelled        └─fail, role left─▶ revoke-failed
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

/** Which states each state may move to. No state moves to itself: that is an annotation. */
export const TRANSITIONS: Readonly<Record<RequestState, readonly RequestState[]>> = {
  pending: ['approved', 'denied', 'cancelled', 'expired-unapproved'],
  // approved → revoke-failed: the grant failed after its role was created and the role could not
  // be removed (GrantRollbackError). Never `failed` ("nothing was granted") with a live role: the
  // request records the role and reconcile's revoke-failed retry removes it.
  approved: ['active', 'failed', 'revoke-failed'],
  active: ['revoked', 'revoke-failed'],
  // A failed revocation is retried (reconcile, the revoke job, an operator) until it succeeds.
  'revoke-failed': ['revoked'],
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

export const FINAL_STATES: readonly RequestState[] = REQUEST_STATES.filter(isFinal);

/** What a requester can still act on. */
export const OPEN_STATES: readonly RequestState[] = ['pending', 'approved', 'active', 'revoke-failed'];

/** States in which the request's role exists in AWS (or may: revocation is being retried). */
export const ROLE_STATES: readonly RequestState[] = ['active', 'revoke-failed'];

export function holdsRole(state: RequestState): boolean {
  return ROLE_STATES.includes(state);
}

/** A programming error: a caller asked the store for a move the table forbids. */
export class ForbiddenTransitionError extends Error {
  constructor(
    readonly from: readonly RequestState[],
    readonly to: RequestState,
  ) {
    super(`the request lifecycle has no transition ${from.join('|')} → ${to}`);
    this.name = 'ForbiddenTransitionError';
  }
}

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
