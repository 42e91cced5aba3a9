/**
 * Deciding a multi-account request on its one approvers' message: Approve counts on every account
 * the clicker may decide (the single request's click-time checks, per account), Deny ends every
 * account, and the requester may cancel all of it.
 */
import type { AccessRequest } from '../access-request.js';
import { refusal, type Refusal } from '../approval-policy.js';
import type { GroupView } from '../request-group.js';
import { approvalContent } from '../request-integrity.js';
import {
  isInvolved,
  record,
  recordStrictly,
  safely,
  transitionEvent,
  type RequestContext,
} from './context.js';
import { checkDecider, unrecordedApproval } from './decide.js';
import { groupViewOf, missingGroup, type GroupResult } from './group-gate.js';
import { approveAutoMembers, provisionGroup } from './group-grants.js';
import { SYSTEM_ACTOR } from './types.js';

/**
 * Approve on the group's message: counted on every waiting account whose rule lets the clicker
 * decide (each checked as a single request's click is, self-approval refused); when every
 * account is approved, the auto-approving ones follow and all are granted.
 */
export async function approveGroup(
  ctx: RequestContext,
  groupId: string,
  clickerId: string,
): Promise<GroupResult> {
  const view = await groupViewOf(ctx, groupId);
  if (!view) return missingGroup(groupId);
  const counted: AccessRequest[] = [];
  let firstRefusal: Refusal | undefined;
  for (const member of view.members) {
    if (member.approvalsRequired === 0 || member.state !== 'pending') continue;
    const checked = await checkDecider(ctx, member.id, clickerId, 'approve');
    if (!('id' in checked)) {
      firstRefusal ??= checked;
      continue;
    }
    await ctx.store.setApprovalProof(
      member.id,
      clickerId,
      ctx.signer.sign(approvalContent(member.id, clickerId)),
    );
    const outcome = await ctx.store.approve(member.id, clickerId, ctx.clock.now());
    if (!('request' in outcome)) {
      firstRefusal ??= refusal(
        'not-pending',
        `${member.accountName} of request ${groupId} is no longer waiting`,
      );
      continue;
    }
    const recorded = await recordStrictly(ctx, {
      actor: clickerId,
      action: 'approve',
      outcome: 'ok',
      requestId: member.id,
      stateBefore: 'pending',
      stateAfter: outcome.request.state,
      details: { approvals: outcome.count, required: outcome.request.approvalsRequired, group: groupId },
    });
    if (!recorded) {
      await unrecordedApproval(ctx, outcome.request, clickerId);
      await endGroup(ctx, groupId, SYSTEM_ACTOR, 'deny', 'an approval could not be written to the audit log');
      return {
        ok: false,
        refusal: refusal(
          'wrong-state',
          `your approval of request ${groupId} could not be recorded in the audit log, so it does not count: the request was ended and nothing was granted`,
        ),
      };
    }
    counted.push(outcome.request);
  }
  if (!counted.length) {
    return {
      ok: false,
      refusal:
        firstRefusal ??
        refusal('not-pending', `request ${groupId} is not waiting for approvals; nothing was changed`),
    };
  }
  const after = (await groupViewOf(ctx, groupId)) ?? view;
  const waiting = after.members.filter((m) => m.approvalsRequired > 0 && m.state === 'pending');
  const names = counted.map((m) => m.accountName).join(', ');
  if (waiting.length) {
    await safely(ctx, 'message update', () =>
      ctx.groupNotifier!.groupChanged(after, `<@${clickerId}> approved (${names})`),
    );
    return {
      ok: true,
      view: after,
      message: `Approval counted on ${names}. Request ${groupId} still waits for approvals on ${waiting
        .map((m) => `${m.accountName} (${m.approvals.length} of ${m.approvalsRequired})`)
        .join(', ')}.`,
    };
  }
  const granted = (await grantWhenApproved(ctx, after)) ?? after;
  return {
    ok: true,
    view: granted,
    message: `Approved request ${groupId} (${granted.members.length} accounts).`,
  };
}

/**
 * Once no account waits for approvals any more: the auto-approving accounts follow, the timers
 * stop, the requester is told once, and every approved account is granted. Undefined (nothing
 * done) while an account still waits, or when no account is left to grant.
 */
export async function grantWhenApproved(
  ctx: RequestContext,
  view: GroupView,
): Promise<GroupView | undefined> {
  const live = view.members.filter((m) => m.state !== 'cancelled');
  if (live.some((m) => m.approvalsRequired > 0 && m.state === 'pending')) return undefined;
  if (!live.some((m) => m.state === 'pending' || m.state === 'approved')) return undefined;
  // Two clicks completing the group at once (each on its own accounts) grant it once.
  if (!(await ctx.groups!.claimGrant(view.group.id, ctx.clock.now()))) return undefined;
  await approveAutoMembers(ctx, view, 'auto-approve');
  for (const member of view.members) await ctx.scheduler.cancelPending(member.id);
  await safely(ctx, 'requester DM', () =>
    ctx.notifier.toRequester(
      live[0]!,
      `Your request ${view.group.id} was approved on all ${live.length} accounts. Granting access now…`,
    ),
  );
  return provisionGroup(ctx, view.group.id);
}

/**
 * The requester cancelled one account of a waiting request: the rest go on without it, and if
 * that account was the last one waiting for approvals, the rest is granted now.
 */
export async function accountCancelled(ctx: RequestContext, request: AccessRequest): Promise<void> {
  if (!request.groupId) return;
  const view = await groupViewOf(ctx, request.groupId);
  if (!view) return;
  await safely(ctx, 'message update', () =>
    ctx.groupNotifier!.groupChanged(view, `${request.accountName}: cancelled by the requester`),
  );
  await grantWhenApproved(ctx, view);
}

/** Deny on the group's message: any approver of one of its waiting accounts ends all of them. */
export async function denyGroup(
  ctx: RequestContext,
  groupId: string,
  clickerId: string,
  reason: string,
): Promise<GroupResult> {
  const allowed = await checkGroupDecider(ctx, groupId, clickerId, 'deny');
  if (allowed !== true) return { ok: false, refusal: allowed };
  return endGroup(ctx, groupId, clickerId, 'deny', reason);
}

/** Whether the clicker may decide at least one waiting account of the group (deny, the deny form). */
export async function checkGroupDecider(
  ctx: RequestContext,
  groupId: string,
  clickerId: string,
  action: string,
): Promise<true | Refusal> {
  const view = await groupViewOf(ctx, groupId);
  if (!view) return missingGroup(groupId).refusal;
  let first: Refusal | undefined;
  for (const member of view.members) {
    if (member.state !== 'pending' || member.approvalsRequired === 0) continue;
    const checked = await checkDecider(ctx, member.id, clickerId, action);
    if ('id' in checked) return true;
    first ??= checked;
  }
  return (
    first ?? refusal('not-pending', `request ${groupId} is not waiting for a decision; nothing was changed`)
  );
}

/** Cancel by the requester: every account still waiting (or approved, not yet granted) ends. */
export async function cancelGroup(
  ctx: RequestContext,
  groupId: string,
  actorId: string,
): Promise<GroupResult> {
  const view = await groupViewOf(ctx, groupId);
  if (!view) return missingGroup(groupId);
  if (view.group.requesterId !== actorId) {
    const involved = await Promise.all(view.members.map((m) => isInvolved(ctx, m, actorId)));
    return involved.some(Boolean)
      ? { ok: false, refusal: refusal('not-yours', 'only the requester can cancel a request') }
      : missingGroup(groupId);
  }
  return endGroup(ctx, groupId, actorId, 'cancel');
}

/**
 * Ends every account that has no grant yet: waiting ones are denied / cancelled, approved ones
 * (waiting for the rest of the group) fail, so nothing of the request is granted afterwards.
 */
async function endGroup(
  ctx: RequestContext,
  groupId: string,
  actorId: string,
  action: 'deny' | 'cancel',
  reason?: string,
): Promise<GroupResult> {
  const view = await groupViewOf(ctx, groupId);
  if (!view) return missingGroup(groupId);
  const now = ctx.clock.now();
  const ended: AccessRequest[] = [];
  for (const member of view.members) {
    const moved =
      member.state === 'pending'
        ? await ctx.store.transition(member.id, {
            from: ['pending'],
            to: action === 'deny' ? 'denied' : 'cancelled',
            patch: { decidedBy: actorId, decidedAt: now, ...(reason ? { denyReason: reason } : {}) },
          })
        : member.state === 'approved'
          ? await ctx.store.transition(member.id, {
              from: ['approved'],
              to: 'failed',
              patch: {
                failure: `${action === 'deny' ? 'denied' : 'cancelled'} with the rest of request ${groupId}`,
              },
            })
          : undefined;
    if (!moved?.ok) continue;
    ended.push(moved.request);
    await record(ctx, transitionEvent(actorId, action, moved, reason, 'ok', { group: groupId }));
    await ctx.scheduler.cancelPending(member.id);
  }
  if (!ended.length) {
    return {
      ok: false,
      refusal: refusal('not-pending', `request ${groupId} is no longer waiting; nothing was changed`),
    };
  }
  const after = (await groupViewOf(ctx, groupId)) ?? view;
  const note = action === 'deny' ? `<@${actorId}> denied` : 'cancelled by the requester';
  await safely(ctx, 'message update', () => ctx.groupNotifier!.groupChanged(after, note));
  if (action === 'deny') {
    await safely(ctx, 'requester DM', () =>
      ctx.notifier.toRequester(
        ended[0]!,
        `Your request ${groupId} (${ended.length} accounts) was denied by ${actorId === SYSTEM_ACTOR ? 'the bot' : `<@${actorId}>`}. Nothing was granted.`,
      ),
    );
  }
  const verb = action === 'deny' ? 'Denied' : 'Cancelled';
  return { ok: true, view: after, message: `${verb} request ${groupId} (${ended.length} accounts).` };
}
