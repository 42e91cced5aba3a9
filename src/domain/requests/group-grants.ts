/**
 * Granting a multi-account request once every account is approved: the accounts whose own rule
 * auto-approves follow the rest, then every account is provisioned (each through the ordinary
 * `provision`, which asks group-gate.ts) and the requester gets one DM listing every grant.
 */
import type { AccessRequest } from '../access-request.js';
import type { Delivery } from '../ports.js';
import type { GroupView } from '../request-group.js';
import { record, safely, transitionEvent, type RequestContext } from './context.js';
import { groupViewOf } from './group-gate.js';
import { provision } from './provision.js';
import { SYSTEM_ACTOR } from './types.js';

/** The accounts whose own rule auto-approves, approved by the bot once the rest of the group is. */
export async function approveAutoMembers(
  ctx: RequestContext,
  view: GroupView,
  action: string,
): Promise<Map<string, number>> {
  /** id → when this call approved it (the request's `updatedAt`). */
  const approved = new Map<string, number>();
  for (const member of view.members) {
    if (member.approvalsRequired !== 0 || member.state !== 'pending') continue;
    const moved = await ctx.store.transition(member.id, {
      from: ['pending'],
      to: 'approved',
      patch: { autoApproved: true, decidedBy: SYSTEM_ACTOR, decidedAt: ctx.clock.now() },
    });
    if (moved.ok) {
      approved.set(member.id, moved.request.updatedAt);
      await record(
        ctx,
        transitionEvent(SYSTEM_ACTOR, action, moved, `rule ${member.ruleName}`, 'ok', {
          group: view.group.id,
        }),
      );
    }
  }
  return approved;
}

/**
 * Reconcile's repair of a group left with every account approved but the auto-approving ones
 * still pending (the worker died between the last approval and approving them): nothing else
 * would ever grant it, and its pending timers would end it as expired. The accounts are approved
 * by the bot and granted as the last approval would have done. Overlapping runs: only the run
 * whose compare-and-set moved an account goes on, and each grant is claimed only if nobody
 * touched the account since (`staleBefore`: the reconcile run's, or this run's own approval).
 */
export async function resumeStuckGroup(
  ctx: RequestContext,
  groupId: string,
  staleBefore: number,
): Promise<GroupView | undefined> {
  const view = await groupViewOf(ctx, groupId);
  if (!view) return undefined;
  const pending = view.members.filter((m) => m.state === 'pending');
  if (!pending.length || pending.some((m) => m.approvalsRequired > 0)) return undefined;
  // A click granting it right now holds the claim; one that died before staleBefore is taken over.
  if (!(await ctx.groups!.claimGrant(groupId, ctx.clock.now(), staleBefore))) return undefined;
  const approvedNow = await approveAutoMembers(ctx, view, 'auto-approve');
  if (!approvedNow.size) return undefined;
  for (const member of view.members) await ctx.scheduler.cancelPending(member.id);
  return provisionGroup(ctx, groupId, (id) => approvedNow.get(id) ?? staleBefore);
}

/** Grants every approved account of the group (in parallel) and sends one DM listing them all. */
export async function provisionGroup(
  ctx: RequestContext,
  groupId: string,
  staleBefore?: (requestId: string) => number,
): Promise<GroupView | undefined> {
  const view = await groupViewOf(ctx, groupId);
  if (!view) return undefined;
  const grants: Array<{ request: AccessRequest; delivery: Delivery }> = [];
  await Promise.all(
    view.members
      .filter((m) => m.state === 'approved')
      .map(async (m) => {
        try {
          await provision(ctx, m.id, {
            deliver: (request, delivery) => grants.push({ request, delivery }),
            ...(staleBefore ? { staleBefore: staleBefore(m.id) } : {}),
          });
        } catch (error) {
          // The account stays approved: reconcile grants it (or fails it) after the timeout.
          ctx.onError(error, 'granting an account of a multi-account request; reconcile retries it');
        }
      }),
  );
  const after = (await groupViewOf(ctx, groupId)) ?? view;
  const order = new Map(after.group.memberIds.map((id, i) => [id, i]));
  grants.sort((a, b) => (order.get(a.request.id) ?? 0) - (order.get(b.request.id) ?? 0));
  if (grants.length) await safely(ctx, 'delivery DM', () => ctx.groupNotifier!.groupDelivered(after, grants));
  const active = after.members.filter((m) => m.state === 'active').length;
  await safely(ctx, 'message update', () =>
    ctx.groupNotifier!.groupChanged(
      after,
      active === after.members.length
        ? 'access granted'
        : `${active} of ${after.members.length} accounts granted`,
    ),
  );
  return after;
}
