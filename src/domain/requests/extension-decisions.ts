/**
 * Approvers deciding an extension: the same N of M and click-time checks as a request; the Nth
 * approval applies it (extend.ts), a deny clears it and the grant ends as planned.
 */
import type { AccessRequest } from '../access-request.js';
import { checkDecision, refusal, type ApprovalRule, type Refusal } from '../approval-policy.js';
import {
  identitiesOf,
  lostRace,
  membersOf,
  record,
  refused,
  refuseMissing,
  refuseWith,
  ruleNamed,
  safely,
  transitionEvent,
  type RequestContext,
} from './context.js';
import { applyExtension, checkExtension, grantEnded } from './extend.js';
import { clickerOnCall } from './on-call-lookups.js';
import type { ActionResult } from './types.js';

/**
 * An approver's Approve on an extension: counted once per approver; the Nth applies it.
 * `requestedAt` names the extension the clicked message shows, so a click on the message of an
 * extension already decided never decides a newer one.
 */
export async function approveExtension(
  ctx: RequestContext,
  requestId: string,
  clickerId: string,
  requestedAt?: number,
): Promise<ActionResult> {
  const checked = await checkExtensionDecider(ctx, requestId, clickerId, 'extension-approve', requestedAt);
  if (!checked.ok) return checked;
  const { request, rule } = checked;
  const pending = request.pendingExtension!;
  const approvals = [...pending.approvals, clickerId];
  if (approvals.length < rule.approvalsRequired) {
    const moved = await ctx.store.annotate(requestId, {
      states: ['active'],
      expectedVersion: request.version,
      notExpiredAt: ctx.clock.now(),
      patch: { pendingExtension: { ...pending, approvals } },
    });
    if (!moved.ok && moved.reason === 'expired') {
      const ended = grantEnded(requestId, moved.expiresAt);
      await clearPendingExtension(ctx, request, clickerId, ended.message);
      return refuseWith(ctx, clickerId, 'extension-approve', request, ended);
    }
    if (!moved.ok) return lostRace(ctx, clickerId, 'extension-approve', request, moved);
    await record(
      ctx,
      transitionEvent(clickerId, 'extension-approve', moved, undefined, 'ok', {
        approvals: approvals.length,
        required: rule.approvalsRequired,
      }),
    );
    await safely(ctx, 'extension message update', () =>
      ctx.notifier.extensionChanged(
        moved.request,
        pending,
        `<@${clickerId}> approved (${approvals.length} of ${rule.approvalsRequired})`,
      ),
    );
    return {
      ok: true,
      request: moved.request,
      message: `Approval counted: ${approvals.length} of ${rule.approvalsRequired}.`,
    };
  }
  const problem = checkExtension(ctx, request, pending.seconds);
  if (problem) {
    await clearPendingExtension(ctx, request, clickerId, problem.message);
    return refuseWith(ctx, clickerId, 'extension-approve', request, problem);
  }
  const result = await applyExtension(ctx, request, clickerId, pending.seconds, {
    pendingExtension: null,
  });
  if (!result.ok && result.refusal.code === 'grant-ended') {
    await clearPendingExtension(ctx, request, clickerId, result.refusal.message);
  }
  if (result.ok) {
    await safely(ctx, 'extension message update', () =>
      ctx.notifier.extensionChanged(result.request, pending, `<@${clickerId}> approved; extended`),
    );
    await safely(ctx, 'requester DM', () =>
      ctx.notifier.toRequester(
        result.request,
        `Your extension of request ${requestId} was approved: access now ends ${new Date(
          result.request.expiresAt!,
        ).toISOString()}.`,
      ),
    );
  }
  return result;
}

export async function denyExtension(
  ctx: RequestContext,
  requestId: string,
  clickerId: string,
  requestedAt?: number,
): Promise<ActionResult> {
  const checked = await checkExtensionDecider(ctx, requestId, clickerId, 'extension-deny', requestedAt);
  if (!checked.ok) return checked;
  const moved = await clearPendingExtension(ctx, checked.request, clickerId, `denied by <@${clickerId}>`);
  if (!moved.ok) return moved;
  await safely(ctx, 'requester DM', () =>
    ctx.notifier.toRequester(
      moved.request,
      `Your extension of request ${requestId} was denied by <@${clickerId}>; access ends as planned.`,
    ),
  );
  return { ok: true, request: moved.request, message: `Denied the extension of request ${requestId}.` };
}

export async function checkExtensionDecider(
  ctx: RequestContext,
  requestId: string,
  clickerId: string,
  action: string,
  requestedAt?: number,
): Promise<{ ok: true; request: AccessRequest; rule: ApprovalRule } | { ok: false; refusal: Refusal }> {
  const request = await ctx.store.get(requestId);
  if (!request)
    return refuseMissing(ctx, clickerId, action, requestId) as Promise<{ ok: false; refusal: Refusal }>;
  const fail = async (r: Refusal) => {
    await refused(ctx, clickerId, action, request, r);
    return { ok: false as const, refusal: r };
  };
  if (request.state !== 'active' || !request.pendingExtension) {
    return fail(refusal('not-pending', `no extension of request ${requestId} is waiting for a decision`));
  }
  if (requestedAt !== undefined && request.pendingExtension.requestedAt !== requestedAt) {
    return fail(
      refusal(
        'not-pending',
        `the extension of request ${requestId} you clicked was already decided; nothing was changed`,
      ),
    );
  }
  const rule = ruleNamed(ctx, request.ruleName);
  const [clicker, groupMembers] = await Promise.all([
    ctx.people.person(clickerId),
    membersOf(ctx, rule?.approvers.groups ?? []),
  ]);
  // Whoever is on call now on the rule's approver schedules decides extensions too.
  const onCall = await clickerOnCall(ctx, rule, clickerId, clicker, groupMembers);
  // The request's own click-time checks, on the extension's approvals.
  const problem = checkDecision({
    request: {
      ...request,
      state: 'pending',
      approvals: request.pendingExtension.approvals.map((approverId) => ({ approverId, at: 0 })),
    },
    rule,
    clickerId,
    clicker,
    groupMembers,
    identities: await identitiesOf(ctx, request, clickerId, clicker, request.pendingExtension.approvals),
    onCall,
  });
  if (problem) return fail(problem);
  return { ok: true, request, rule: rule! };
}

export async function clearPendingExtension(
  ctx: RequestContext,
  request: AccessRequest,
  actorId: string,
  note: string,
): Promise<{ ok: true; request: AccessRequest } | { ok: false; refusal: Refusal }> {
  const pending = request.pendingExtension!;
  const moved = await ctx.store.annotate(request.id, {
    states: ['active'],
    expectedVersion: request.version,
    patch: { pendingExtension: null },
  });
  if (!moved.ok) {
    const r = await lostRace(ctx, actorId, 'extension-deny', request, moved);
    return r as { ok: false; refusal: Refusal };
  }
  await record(ctx, transitionEvent(actorId, 'extension-deny', moved, note));
  await safely(ctx, 'extension message update', () =>
    ctx.notifier.extensionChanged(moved.request, pending, note),
  );
  return { ok: true, request: moved.request };
}
