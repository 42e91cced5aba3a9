/**
 * Acting on every account of a multi-account request by its id: revoke, extend and status, each
 * account through its own use case and checks (an account's own id acts on that account alone).
 */
import { holdsRole, type AccessRequest } from '../access-request.js';
import { refusal, type Refusal } from '../approval-policy.js';
import type { GroupView } from '../request-group.js';
import { isInvolved, safely, type RequestContext } from './context.js';
import { extendGrant } from './extend.js';
import { groupViewOf, missingGroup, type GroupResult } from './group-gate.js';
import { revokeGrant, type RevokeOptions } from './revoke.js';
import { GrantOperationError, type ActionResult } from './types.js';

/** One result line per account; ok when at least one account was acted on. */
async function onEachAccount(
  ctx: RequestContext,
  groupId: string,
  actorId: string,
  which: (m: AccessRequest) => boolean,
  act: (m: AccessRequest) => Promise<ActionResult>,
  none: string,
): Promise<GroupResult> {
  const view = await groupViewOf(ctx, groupId);
  if (!view) return missingGroup(groupId);
  const targets = view.members.filter(which);
  if (!targets.length) {
    // Someone with no part in it is told it does not exist, as `status` does (never its state).
    return (await involvedInGroup(ctx, view, actorId))
      ? { ok: false, refusal: refusal('wrong-state', none) }
      : missingGroup(groupId);
  }
  const lines: string[] = [];
  let acted = 0;
  let firstRefusal: Refusal | undefined;
  for (const member of targets) {
    try {
      const result = await act(member);
      if (result.ok) acted++;
      else firstRefusal ??= result.refusal;
      lines.push(`${member.accountName}: ${result.ok ? result.message : result.refusal.message}`);
    } catch (error) {
      if (!(error instanceof GrantOperationError)) throw error;
      lines.push(`${member.accountName}: ${error.message} (the security team has been alerted)`);
    }
  }
  if (!acted && firstRefusal && lines.length === targets.length && firstRefusal.code !== 'wrong-state') {
    // Someone with no part in any account learns nothing, not even the accounts' own ids.
    return firstRefusal.code === 'not-found' ? missingGroup(groupId) : { ok: false, refusal: firstRefusal };
  }
  const after = (await groupViewOf(ctx, groupId)) ?? view;
  return { ok: true, view: after, message: lines.join('\n') };
}

/** Revokes every account of the group that holds a grant (each checked as a single revoke is). */
export async function revokeGroup(
  ctx: RequestContext,
  groupId: string,
  actorId: string,
  options: RevokeOptions = {},
): Promise<GroupResult> {
  const result = await onEachAccount(
    ctx,
    groupId,
    actorId,
    (m) => holdsRole(m.state),
    (m) => revokeGrant(ctx, m.id, actorId, { ...options, request: m }),
    `request ${groupId} has no active grant to revoke`,
  );
  if (result.ok) {
    await safely(ctx, 'message update', () =>
      ctx.groupNotifier!.groupChanged(result.view, `revoked by <@${actorId}>`),
    );
  }
  return result;
}

/** Extends every active account of the group (each through its own extension flow). */
export function extendGroup(
  ctx: RequestContext,
  groupId: string,
  actorId: string,
  seconds: number,
): Promise<GroupResult> {
  return onEachAccount(
    ctx,
    groupId,
    actorId,
    (m) => m.state === 'active',
    (m) => extendGrant(ctx, m.id, actorId, seconds),
    `request ${groupId} has no active grant to extend`,
  );
}

/** The group as someone involved in one of its accounts may see it. */
export async function groupStatus(
  ctx: RequestContext,
  groupId: string,
  userId: string,
): Promise<GroupResult> {
  const view = await groupViewOf(ctx, groupId);
  if (!view) return missingGroup(groupId);
  if (!(await involvedInGroup(ctx, view, userId))) return missingGroup(groupId);
  return { ok: true, view, message: '' };
}

/** The requester, or someone involved in one of its accounts (context.ts `isInvolved`). */
async function involvedInGroup(ctx: RequestContext, view: GroupView, userId: string): Promise<boolean> {
  return (
    view.group.requesterId === userId ||
    (await Promise.all(view.members.map((m) => isInvolved(ctx, m, userId)))).some(Boolean)
  );
}
