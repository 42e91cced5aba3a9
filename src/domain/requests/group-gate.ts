/**
 * The one rule that holds a multi-account request together at grant time: no account of it is
 * granted until every account of it is approved (the strictest rule's approvals are in), and
 * none is granted once another was denied, cancelled or expired. Provisioning asks this before
 * it claims a group member (requests/provision.ts), so reconcile's repair of a request stuck in
 * `approved` cannot grant one account of a group that is still waiting either.
 */
import type { AccessRequest, RequestState } from '../access-request.js';
import { refusal, type Refusal } from '../approval-policy.js';
import type { GroupView } from '../request-group.js';
import type { RequestContext } from './context.js';

export type GroupResult = { ok: true; view: GroupView; message: string } | { ok: false; refusal: Refusal };

export function missingGroup(groupId: string): { ok: false; refusal: Refusal } {
  return { ok: false, refusal: refusal('not-found', `request ${groupId} does not exist`) };
}

/**
 * Ended without a grant before the group was approved: the group will never be. A `cancelled`
 * account is not among them: the requester dropped it (`/aws-access cancel <account id>`) and
 * the rest goes on without it; cancelling the whole request cancels every account.
 */
const NOT_APPROVED: readonly RequestState[] = ['denied', 'expired-unapproved'];

/** The group of a member with its members as stored now; undefined for a single request. */
export async function groupViewOf(ctx: RequestContext, groupId: string): Promise<GroupView | undefined> {
  const group = await ctx.groups?.get(groupId);
  if (!group) return undefined;
  const members = await Promise.all(group.memberIds.map((id) => ctx.store.get(id)));
  return { group, members: members.filter((m): m is AccessRequest => m !== undefined) };
}

/**
 * `go` when the member may be granted now, `wait` while another account of its request is still
 * pending, or why it never will be. A member whose group record is missing (wiped Redis) is not
 * granted: its approvals were counted for a request that can no longer be shown whole.
 */
export async function groupGate(
  ctx: RequestContext,
  request: AccessRequest,
): Promise<'go' | 'wait' | Refusal> {
  if (!request.groupId) return 'go';
  const view = await groupViewOf(ctx, request.groupId);
  if (!view || view.group.requesterId !== request.requesterId || !view.group.memberIds.includes(request.id)) {
    return refusal(
      'not-allowed-at-grant',
      `not granted: the multi-account request ${request.groupId} is not on record`,
    );
  }
  if (view.members.length < view.group.memberIds.length) {
    return refusal(
      'not-allowed-at-grant',
      `not granted: an account of request ${request.groupId} is no longer on record`,
    );
  }
  const ended = view.members.find((m) => NOT_APPROVED.includes(m.state));
  if (ended) {
    return refusal(
      'not-allowed-at-grant',
      `not granted: ${ended.accountName} of the same request (${request.groupId}) was ${ended.state}`,
    );
  }
  return view.members.some((m) => m.state === 'pending') ? 'wait' : 'go';
}

/**
 * Redraws a group's approvers' message after one of its accounts changed on its own (its
 * revoke job, a revoke by its own id, its pending TTL). Best effort, as every message update.
 */
export async function groupMemberChanged(
  ctx: RequestContext,
  request: AccessRequest,
  note: string,
): Promise<void> {
  if (!request.groupId || !ctx.groupNotifier) return;
  try {
    const view = await groupViewOf(ctx, request.groupId);
    if (view) await ctx.groupNotifier.groupChanged(view, `${request.accountName}: ${note}`);
  } catch (error) {
    ctx.onError(error, 'group message update');
  }
}

/** Whether the request is its group's first account (the one that speaks for the group). */
export async function isFirstOfGroup(ctx: RequestContext, request: AccessRequest): Promise<boolean> {
  if (!request.groupId) return true;
  const group = await ctx.groups?.get(request.groupId).catch(() => undefined);
  return !group || group.memberIds[0] === request.id;
}
