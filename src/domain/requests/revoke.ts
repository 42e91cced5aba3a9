/**
 * Ending a grant now: by the requester, an approver of its rule, an admin or the bot. A failed
 * revocation leaves the request revoke-failed (retried until the role is gone).
 */
import { describeState, holdsRole, ROLE_STATES, type AccessRequest } from '../access-request.js';
import { isApprover, refusal } from '../approval-policy.js';
import {
  errorText,
  isAdmin,
  lostRace,
  membersOf,
  record,
  refuseMissing,
  refuseNotYours,
  refuseWith,
  ruleNamed,
  safely,
  transitionEvent,
  type RequestContext,
} from './context.js';
import { groupMemberChanged } from './group-gate.js';
import { GrantOperationError, SYSTEM_ACTOR, type ActionResult } from './types.js';

export interface RevokeOptions {
  reason?: string;
  /** Default true: a failed engine call moves the request to revoke-failed and alerts. */
  recordFailure?: boolean;
  /** The request as the caller has just read it (saves a read; the transition still checks). */
  request?: AccessRequest;
  /**
   * The call is the grant's own `revoke-<id>` job: its warning ran before it and it cannot
   * remove itself, so there are no timers to cancel (one round trip less per revocation).
   */
  fromEndJob?: boolean;
}

/**
 * Ends a grant now: the requester, an approver of the request's rule, an admin, or `system`
 * (the revoke job, reconcile). Refusals come back as data; a grant-engine failure moves the
 * request to revoke-failed (when `recordFailure`, default true), alerts security and throws
 * GrantOperationError so a job retries. For `system` a grant already revoked is a no-op
 * success (`changed: false`), so a job that runs twice leaves exactly one revoke event.
 */
export async function revokeGrant(
  ctx: RequestContext,
  requestId: string,
  actorId: string,
  options: RevokeOptions = {},
): Promise<ActionResult> {
  const request = options.request?.id === requestId ? options.request : await ctx.store.get(requestId);
  if (!request) return refuseMissing(ctx, actorId, 'revoke', requestId);
  if (actorId !== SYSTEM_ACTOR && !(await mayRevoke(ctx, request, actorId))) {
    // Not the requester, an approver now or an admin: involved only as a past approver.
    return refuseNotYours(
      ctx,
      actorId,
      'revoke',
      request,
      `only the requester, an approver of rule "${request.ruleName}" or an admin can revoke this grant`,
      request.approvals.some((a) => a.approverId === actorId),
    );
  }
  if (actorId === SYSTEM_ACTOR && request.state === 'revoked') {
    return { ok: true, request, message: `Request ${requestId} was already revoked.`, changed: false };
  }
  if (!holdsRole(request.state)) {
    return refuseWith(
      ctx,
      actorId,
      'revoke',
      request,
      refusal('wrong-state', `request ${requestId} is ${describeState(request.state)}, not an active grant`),
    );
  }
  try {
    await ctx.grants.revoke(request.accountId, requestId);
  } catch (error) {
    if (options.recordFailure !== false) await markRevokeFailed(ctx, requestId, error);
    throw new GrantOperationError(`revoking ${requestId} failed: ${errorText(error)}`, requestId, {
      cause: error,
    });
  }
  const moved = await ctx.store.transition(requestId, {
    from: ROLE_STATES,
    to: 'revoked',
    patch: { revokedBy: actorId, revokedAt: ctx.clock.now(), failure: null },
  });
  if (!moved.ok) {
    // A second revoke job (a stalled one picked up again) lost the race to the first: fine.
    if (actorId === SYSTEM_ACTOR && moved.reason === 'state' && moved.state === 'revoked') {
      const now = (await ctx.store.get(requestId)) ?? request;
      return {
        ok: true,
        request: now,
        message: `Request ${requestId} was already revoked.`,
        changed: false,
      };
    }
    return lostRace(ctx, actorId, 'revoke', request, moved);
  }
  await record(ctx, transitionEvent(actorId, 'revoke', moved, options.reason));
  if (!options.fromEndJob) await ctx.scheduler.cancelGrantEnd(requestId);
  const how =
    actorId === SYSTEM_ACTOR ? `revoked: ${options.reason ?? 'by the bot'}` : `revoked by <@${actorId}>`;
  await safely(ctx, 'message update', () => ctx.notifier.requestChanged(moved.request, how));
  await groupMemberChanged(ctx, moved.request, how);
  await safely(ctx, 'requester DM', () =>
    ctx.notifier.toRequester(
      moved.request,
      `Your access for request ${requestId} (${request.templateName} on ${request.accountName}) has been revoked${
        options.reason ? ` (${options.reason})` : ''
      }.`,
    ),
  );
  return { ok: true, request: moved.request, message: `Revoked request ${requestId}.`, changed: true };
}

/** The requester, an approver of the request's rule (as configured now) or an admin. */
export async function mayRevoke(
  ctx: RequestContext,
  request: AccessRequest,
  actorId: string,
): Promise<boolean> {
  if (request.requesterId === actorId) return true;
  const rule = ruleNamed(ctx, request.ruleName);
  if (rule && isApprover(rule, actorId, await membersOf(ctx, rule.approvers.groups))) return true;
  return isAdmin(ctx, actorId);
}

/** active → revoke-failed, with the error text; alerts the security channel. */
export async function markRevokeFailed(
  ctx: RequestContext,
  requestId: string,
  error: unknown,
): Promise<AccessRequest | undefined> {
  const failure = errorText(error);
  // The first failure moves active → revoke-failed; a later one only records its reason.
  let moved = await ctx.store.transition(requestId, {
    from: ['active'],
    to: 'revoke-failed',
    patch: { failure },
  });
  if (!moved.ok && moved.reason === 'state' && moved.state === 'revoke-failed') {
    moved = await ctx.store.annotate(requestId, { states: ['revoke-failed'], patch: { failure } });
  }
  if (!moved.ok) return undefined;
  await record(ctx, transitionEvent(SYSTEM_ACTOR, 'revoke', moved, failure, 'failed'));
  await safely(ctx, 'security alert', () =>
    ctx.notifier.alertSecurity(`Revoking request ${requestId} failed: ${failure}`, moved.request),
  );
  await safely(ctx, 'message update', () => ctx.notifier.requestChanged(moved.request, 'revocation failed'));
  return moved.request;
}
