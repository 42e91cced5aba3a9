/**
 * What the request's jobs do when they fire: the expiry warning, the reminder and escalation of
 * a pending request, and its expiry at the rule's TTL. Each acts only if still relevant.
 */
import type { AccessRequest } from '../access-request.js';
import type { ApprovalRule } from '../approval-policy.js';
import { record, ruleNamed, safely, transitionEvent, type RequestContext } from './context.js';
import { extensionAllowance } from './extend.js';
import { groupMemberChanged, isFirstOfGroup } from './group-gate.js';
import { postMissingGroupMessage } from './group.js';
import { SYSTEM_ACTOR } from './types.js';

/**
 * The expiry warning (warn-<id>): a DM saying when access ends, with an Extend button when an
 * extension is still possible. Does nothing for a grant that is no longer active or already
 * over. Slack failures propagate so the job is retried.
 */
export async function warnExpiry(ctx: RequestContext, requestId: string): Promise<boolean> {
  const request = await ctx.store.get(requestId);
  if (!request || request.state !== 'active' || request.expiresAt === undefined) return false;
  if (request.expiresAt <= ctx.clock.now()) return false;
  const allowance = extensionAllowance(ctx, request);
  await ctx.notifier.expiryWarning(request, allowance);
  await record(ctx, {
    actor: SYSTEM_ACTOR,
    action: 'warn',
    outcome: 'ok',
    requestId,
    stateBefore: 'active',
    stateAfter: 'active',
    details: { expiresAt: new Date(request.expiresAt).toISOString(), canExtend: allowance.maxSeconds > 0 },
  });
  return true;
}

export async function remind(ctx: RequestContext, requestId: string): Promise<boolean> {
  return nudge(ctx, requestId, 'remind', async (request, rule) => {
    // A multi-account request whose approvers' message failed to post gets it now (group.ts).
    if (request.groupId) await postMissingGroupMessage(ctx, request.groupId);
    await ctx.notifier.remind(request, rule);
  });
}

export async function escalate(ctx: RequestContext, requestId: string): Promise<boolean> {
  return nudge(ctx, requestId, 'escalate', (request, rule) => ctx.notifier.escalate(request, rule));
}

/** pending → expired-unapproved at the rule's TTL; a decided request is left alone. */
export async function expirePending(ctx: RequestContext, requestId: string): Promise<boolean> {
  const moved = await ctx.store.transition(requestId, {
    from: ['pending'],
    to: 'expired-unapproved',
  });
  if (!moved.ok) return false;
  await record(ctx, transitionEvent(SYSTEM_ACTOR, 'expire', moved, 'no decision before the TTL'));
  await ctx.scheduler.cancelPending(requestId);
  await safely(ctx, 'message update', () =>
    ctx.notifier.requestChanged(moved.request, 'expired without a decision'),
  );
  // A multi-account request's accounts expire together: its message is redrawn, and the
  // requester is told once, by its first account.
  await groupMemberChanged(ctx, moved.request, 'expired without a decision');
  if (moved.request.groupId && !(await isFirstOfGroup(ctx, moved.request))) return true;
  await safely(ctx, 'requester DM', () =>
    ctx.notifier.toRequester(
      moved.request,
      `Your request ${moved.request.groupId ?? requestId} expired without a decision. Ask again with /aws-access if you still need access.`,
    ),
  );
  return true;
}

export async function nudge(
  ctx: RequestContext,
  requestId: string,
  action: 'remind' | 'escalate',
  send: (request: AccessRequest, rule: ApprovalRule) => Promise<void>,
): Promise<boolean> {
  const request = await ctx.store.get(requestId);
  const rule = request && ruleNamed(ctx, request.ruleName);
  if (!request || !rule || request.state !== 'pending') return false;
  await send(request, rule);
  await record(ctx, {
    actor: SYSTEM_ACTOR,
    action,
    outcome: 'ok',
    requestId,
    stateBefore: 'pending',
    stateAfter: 'pending',
  });
  return true;
}
