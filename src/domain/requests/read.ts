/** Reading requests: one, a requester's, what waits for an approver, status, eligibility. */
import {
  describeState,
  holdsRole,
  OPEN_STATES,
  type AccessRequest,
  type RequestState,
} from '../access-request.js';
import { isApprover, refusal, type Refusal } from '../approval-policy.js';
import {
  ineligibility,
  isInvolved,
  membersOf,
  membershipsOf,
  record,
  refuseMissing,
  refuseNotYours,
  refuseWith,
  ruleNamed,
  type RequestContext,
} from './context.js';
import { rulesOnCallFor } from './on-call-lookups.js';
import type { ActionResult } from './types.js';

/** Oldest first; for reconcile. */
export async function listInState(
  ctx: RequestContext,
  state: RequestState,
  limit = 1000,
): Promise<AccessRequest[]> {
  return ctx.store.listByState(state, limit);
}

export async function get(ctx: RequestContext, requestId: string): Promise<AccessRequest | undefined> {
  return ctx.store.get(requestId);
}

/** The requester's open requests and grants, newest first. */
export async function listFor(
  ctx: RequestContext,
  userId: string,
): Promise<{ active: AccessRequest[]; pending: AccessRequest[]; recent: AccessRequest[] }> {
  const all = await ctx.store.listByRequester(userId, 50);
  return {
    active: all.filter((r) => holdsRole(r.state)),
    pending: all.filter((r) => r.state === 'pending' || r.state === 'approved'),
    recent: all.filter((r) => !OPEN_STATES.includes(r.state)).slice(0, 5),
  };
}

/**
 * What waits for this user as an approver (App Home): pending requests they could approve now
 * (not their own, not already counted) and break-glass grants they may review. The rules'
 * user groups are looked up once for both lists.
 */
export async function waitingFor(
  ctx: RequestContext,
  userId: string,
): Promise<{ approvals: AccessRequest[]; reviews: AccessRequest[] }> {
  const [pending, unreviewed] = await Promise.all([
    ctx.store.listByState('pending', 100),
    ctx.store.listUnreviewedBreakGlass(100),
  ]);
  const rules = new Map([...pending, ...unreviewed].map((r) => [r.ruleName, ruleNamed(ctx, r.ruleName)]));
  const groups = [...new Set([...rules.values()].flatMap((r) => r?.approvers.groups ?? []))];
  const [members, onCallRules] = await Promise.all([
    membersOf(ctx, groups),
    rulesOnCallFor(ctx, [...rules.values()], userId),
  ]);
  const approverOf = (r: AccessRequest): boolean => {
    const rule = rules.get(r.ruleName);
    return (
      rule !== undefined &&
      r.requesterId !== userId &&
      isApprover(rule, userId, members, onCallRules.has(rule.name))
    );
  };
  return {
    approvals: pending.filter((r) => approverOf(r) && !r.approvals.some((a) => a.approverId === userId)),
    reviews: unreviewed.filter(approverOf),
  };
}

/**
 * credentials mode: a fresh session for a grant that is still active, DM'd to the requester
 * only (the role-chaining cap keeps each session to an hour; the grant may last longer).
 * Nothing of the session is stored or audited beyond the fact of the refresh.
 */
export async function refreshDelivery(
  ctx: RequestContext,
  requestId: string,
  actorId: string,
): Promise<ActionResult> {
  const request = await ctx.store.get(requestId);
  if (!request) return refuseMissing(ctx, actorId, 'refresh', requestId);
  if (request.requesterId !== actorId) {
    return refuseNotYours(
      ctx,
      actorId,
      'refresh',
      request,
      'only the requester can refresh the credentials of a grant',
    );
  }
  if (request.state !== 'active' || (request.expiresAt ?? 0) <= ctx.clock.now()) {
    return refuseWith(
      ctx,
      actorId,
      'refresh',
      request,
      refusal('wrong-state', `request ${requestId} is ${request.state}, not an active grant`),
    );
  }
  const delivery = await ctx.grants.refreshDelivery(request.accountId, requestId, {
    slackUserId: request.requesterId,
    principalArn: request.principalArn,
    ...(request.principalSessionName ? { principalSessionName: request.principalSessionName } : {}),
    displayName: request.requesterName,
  });
  await ctx.notifier.delivered(request, delivery);
  await record(ctx, {
    actor: actorId,
    action: 'refresh',
    outcome: 'ok',
    requestId,
    stateBefore: request.state,
    stateAfter: request.state,
  });
  return { ok: true, request, message: `New credentials for request ${requestId} are in your DMs.` };
}

/**
 * Why this person may not ask for access at all (deleted, guest, bot, outside the requester
 * groups), or undefined. The form, the account type-ahead and `templates` use it too, so a
 * guest learns nothing about the accounts.
 */
export async function whyIneligible(ctx: RequestContext, userId: string): Promise<Refusal | undefined> {
  const [person, memberships] = await Promise.all([
    ctx.people.person(userId),
    membershipsOf(ctx, userId, ctx.settings.requesterGroups),
  ]);
  return ineligibility(ctx, person, memberships);
}

/** Whoever asked, approved or administers may see a request's status. */
export async function status(ctx: RequestContext, requestId: string, userId: string): Promise<ActionResult> {
  const request = await ctx.store.get(requestId);
  if (!request) return { ok: false, refusal: refusal('not-found', `request ${requestId} does not exist`) };
  if (!(await isInvolved(ctx, request, userId))) {
    return { ok: false, refusal: refusal('not-found', `request ${requestId} does not exist`) };
  }
  return { ok: true, request, message: describeState(request.state) };
}
