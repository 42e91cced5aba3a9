/**
 * Deciding a pending request: who may decide it right now (checked at click time, by Slack id
 * and by AWS principal), approvals counted N of M with a signed proof each, deny and cancel.
 */
import type { AccessRequest } from '../access-request.js';
import { checkDecision, refusal, type Refusal } from '../approval-policy.js';
import { approvalContent } from '../request-integrity.js';
import {
  identitiesOf,
  lostRace,
  membersOf,
  record,
  recordStrictly,
  refused,
  refuseMissing,
  refuseNotYours,
  ruleNamed,
  safely,
  transitionEvent,
  type RequestContext,
} from './context.js';
import { clickerOnCall } from './on-call-lookups.js';
import { provision } from './provision.js';
import { revokeGrant } from './revoke.js';
import { SYSTEM_ACTOR, type ActionResult } from './types.js';

/** Whether `clickerId` may decide this request right now (used before opening the deny form too). */
export async function checkDecider(
  ctx: RequestContext,
  requestId: string,
  clickerId: string,
  action: string,
): Promise<Refusal | AccessRequest> {
  const request = await ctx.store.get(requestId);
  if (!request) {
    const r = refusal('not-found', `request ${requestId} does not exist`);
    await record(ctx, { actor: clickerId, action, outcome: 'refused', requestId, reason: r.message });
    return r;
  }
  const rule = ruleNamed(ctx, request.ruleName);
  const [clicker, groupMembers] = await Promise.all([
    ctx.people.person(clickerId),
    membersOf(ctx, rule?.approvers.groups ?? []),
  ]);
  const identities = await identitiesOf(
    ctx,
    request,
    clickerId,
    clicker,
    request.approvals.map((a) => a.approverId),
  );
  const onCall = await clickerOnCall(ctx, rule, clickerId, clicker, groupMembers);
  const problem = checkDecision({ request, rule, clickerId, clicker, groupMembers, identities, onCall });
  if (problem) {
    await refused(ctx, clickerId, action, request, problem);
    return problem;
  }
  return request;
}

export async function approve(
  ctx: RequestContext,
  requestId: string,
  clickerId: string,
): Promise<ActionResult> {
  const checked = await checkDecider(ctx, requestId, clickerId, 'approve');
  if (!('id' in checked)) return { ok: false, refusal: checked };
  // The bot's signed word that this click passed the checks, written before it is counted, so
  // provisioning (perhaps another click's, a moment later) can tell it from one put into Redis.
  await ctx.store.setApprovalProof(
    requestId,
    clickerId,
    ctx.signer.sign(approvalContent(requestId, clickerId)),
  );
  const outcome = await ctx.store.approve(requestId, clickerId, ctx.clock.now());
  if (outcome.result === 'missing')
    return { ok: false, refusal: refusal('not-found', `request ${requestId} does not exist`) };
  if (!('request' in outcome)) {
    const problem =
      outcome.result === 'expired'
        ? refusal(
            'request-expired',
            `request ${requestId} expired without a decision at ${new Date(outcome.pendingUntil).toISOString()}; nothing was changed (the requester can ask again with /aws-access)`,
          )
        : outcome.result === 'already'
          ? refusal('already-approved', `you have already approved request ${requestId}`)
          : outcome.result === 'self'
            ? refusal('self-approval', 'you cannot decide your own request')
            : refusal('not-pending', `request ${requestId} is already ${outcome.state}; nothing was changed`);
    await refused(ctx, clickerId, 'approve', checked, problem);
    return { ok: false, refusal: problem };
  }
  const { request, count } = outcome;
  const recorded = await recordStrictly(ctx, {
    actor: clickerId,
    action: 'approve',
    outcome: 'ok',
    requestId,
    stateBefore: 'pending',
    stateAfter: request.state,
    details: { approvals: count, required: request.approvalsRequired },
  });
  if (!recorded) return unrecordedApproval(ctx, request, clickerId);
  if (outcome.result === 'counted') {
    await safely(ctx, 'message update', () =>
      ctx.notifier.requestChanged(
        request,
        `<@${clickerId}> approved (${count} of ${request.approvalsRequired})`,
      ),
    );
    return { ok: true, request, message: `Approval counted: ${count} of ${request.approvalsRequired}.` };
  }
  await ctx.scheduler.cancelPending(requestId);
  await safely(ctx, 'message update', () => ctx.notifier.requestChanged(request, `<@${clickerId}> approved`));
  await safely(ctx, 'requester DM', () =>
    ctx.notifier.toRequester(request, `Your request ${requestId} was approved. Granting access now…`),
  );
  const final = await provision(ctx, requestId);
  return { ok: true, request: final ?? request, message: `Approved request ${requestId}.` };
}

export async function deny(
  ctx: RequestContext,
  requestId: string,
  clickerId: string,
  reason: string,
): Promise<ActionResult> {
  const checked = await checkDecider(ctx, requestId, clickerId, 'deny');
  if (!('id' in checked)) return { ok: false, refusal: checked };
  const moved = await ctx.store.transition(requestId, {
    from: ['pending'],
    to: 'denied',
    patch: { decidedBy: clickerId, decidedAt: ctx.clock.now(), denyReason: reason },
  });
  if (!moved.ok) return lostRace(ctx, clickerId, 'deny', checked, moved);
  await record(ctx, transitionEvent(clickerId, 'deny', moved, reason));
  await ctx.scheduler.cancelPending(requestId);
  await safely(ctx, 'message update', () =>
    ctx.notifier.requestChanged(moved.request, `<@${clickerId}> denied`),
  );
  await safely(ctx, 'requester DM', () =>
    ctx.notifier.toRequester(moved.request, `Your request ${requestId} was denied by <@${clickerId}>.`),
  );
  return { ok: true, request: moved.request, message: `Denied request ${requestId}.` };
}

export async function cancel(ctx: RequestContext, requestId: string, actorId: string): Promise<ActionResult> {
  const request = await ctx.store.get(requestId);
  if (!request) return refuseMissing(ctx, actorId, 'cancel', requestId);
  if (request.requesterId !== actorId) {
    return refuseNotYours(ctx, actorId, 'cancel', request, 'only the requester can cancel a request');
  }
  const moved = await ctx.store.transition(requestId, {
    from: ['pending'],
    to: 'cancelled',
    patch: { decidedBy: actorId, decidedAt: ctx.clock.now() },
  });
  if (!moved.ok) return lostRace(ctx, actorId, 'cancel', request, moved);
  await record(ctx, transitionEvent(actorId, 'cancel', moved));
  await ctx.scheduler.cancelPending(requestId);
  await safely(ctx, 'message update', () =>
    ctx.notifier.requestChanged(moved.request, 'cancelled by the requester'),
  );
  return { ok: true, request: moved.request, message: `Cancelled request ${requestId}.` };
}

/**
 * An approval the audit log could not take does not count. The store has already counted it
 * and an approval cannot be taken out of the store again, so the request ends instead, before
 * anything is granted: still pending (more approvals needed) → `denied` by `system`; approved
 * by this click → `failed`. Should another approver's click have got it granted meanwhile, the
 * grant is revoked. The approver is told the approval could not be recorded, the requester
 * that nothing was granted, security is alerted; the follow-up events are best effort (the
 * log is probably still failing).
 */
export async function unrecordedApproval(
  ctx: RequestContext,
  request: AccessRequest,
  clickerId: string,
): Promise<ActionResult> {
  const id = request.id;
  const why = `the approval by <@${clickerId}> could not be written to the audit log`;
  let moved = await ctx.store.transition(id, {
    from: ['pending'],
    to: 'denied',
    patch: { decidedBy: SYSTEM_ACTOR, decidedAt: ctx.clock.now(), denyReason: why },
  });
  if (!moved.ok && moved.reason === 'state' && moved.state === 'approved') {
    moved = await ctx.store.transition(id, {
      from: ['approved'],
      to: 'failed',
      patch: { failure: why },
    });
  }
  if (moved.ok) {
    const ended = moved.request;
    await record(ctx, transitionEvent(SYSTEM_ACTOR, 'approve', moved, why, 'failed'));
    await safely(ctx, 'cancel reminders', () => ctx.scheduler.cancelPending(id));
    await safely(ctx, 'message update', () =>
      ctx.notifier.requestChanged(ended, 'an approval could not be recorded; nothing was granted'),
    );
    await safely(ctx, 'requester DM', () =>
      ctx.notifier.toRequester(
        ended,
        `Your request ${id} could not be approved: an approval could not be recorded in the audit log. Nothing was granted; please request again.`,
      ),
    );
  } else if (!moved.ok && moved.reason === 'state' && moved.state === 'active') {
    await revokeGrant(ctx, id, SYSTEM_ACTOR, { reason: why }).catch((e: unknown) => ctx.onError(e, 'revoke'));
  }
  await safely(ctx, 'security alert', () =>
    ctx.notifier.alertSecurity(
      `Request ${id}: ${why}; the approval did not count and nothing was granted on it. Check the audit log (aws-access-bot audit verify) and Redis.`,
      moved.ok ? moved.request : request,
    ),
  );
  return {
    ok: false,
    refusal: refusal(
      'wrong-state',
      `your approval of request ${id} could not be recorded in the audit log, so it does not count: the request was ended and nothing was granted (the security team has been alerted)`,
    ),
  };
}
