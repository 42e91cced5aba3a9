/**
 * What reconcile finds in AWS that the requests do not account for: orphaned roles (removed),
 * foreign roles under the bot's path (removed), tag mismatches and missing roles (reported).
 */
import type { AccessRequest } from '../access-request.js';
import type { ManagedRole } from '../ports.js';
import { record, roleNameOf, safely, type RequestContext } from './context.js';
import { SYSTEM_ACTOR } from './types.js';

/**
 * Removes a `/aws-access/` role that no open request accounts for (its request is unknown,
 * finished, or the store was wiped): IAM first, then an audit event.
 */
export async function removeOrphanedRole(
  ctx: RequestContext,
  accountId: string,
  requestId: string,
  why: string,
): Promise<boolean> {
  const { removed, what } = await ctx.grants.revoke(accountId, requestId);
  if (removed) {
    await record(ctx, {
      actor: SYSTEM_ACTOR,
      action: 'reconcile-revoke',
      outcome: 'ok',
      requestId,
      reason: why,
      details: { account: accountId },
    });
    await safely(ctx, 'security alert', () =>
      ctx.notifier.alertSecurity(
        `Reconcile removed ${what ?? `role ${roleNameOf(ctx, requestId)}`} in ${accountId}: ${why}.`,
      ),
    );
  }
  return removed;
}

/**
 * A role whose name says one request and whose `aws-access:request-id` tag another: reconcile
 * goes by the name (the tag can be rewritten by anyone with iam:TagRole) and says so.
 */
export async function reportRoleTagMismatch(
  ctx: RequestContext,
  accountId: string,
  role: ManagedRole,
): Promise<void> {
  await record(ctx, {
    actor: SYSTEM_ACTOR,
    action: 'reconcile-tag-mismatch',
    outcome: 'failed',
    requestId: role.requestId,
    reason: `role ${role.roleName} carries request-id tag "${role.mismatchedTagRequestId ?? ''}"`,
    details: { account: accountId },
  });
  await ctx.notifier.alertSecurity(
    `Role ${role.roleName} in ${accountId} carries the request-id tag "${role.mismatchedTagRequestId ?? ''}", not ${role.requestId ?? '?'}: someone changed its tags. Reconcile treats it as request ${role.requestId ?? '?'}'s role.`,
  );
}

/**
 * A role under `/aws-access/` the bot cannot have made (a sub-path, or a name the grant engine
 * never gives a request's role): neutered, deleted, audited and reported to security.
 */
export async function removeForeignRole(
  ctx: RequestContext,
  accountId: string,
  role: ManagedRole,
): Promise<boolean> {
  if (!ctx.grants.removeForeignRole) return false;
  if (role.assignment) return removeUnheldAssignment(ctx, accountId, role, role.assignment);
  const where = `${role.path ?? ''}${role.roleName}`;
  const { removed } = await ctx.grants.removeForeignRole(accountId, role);
  await record(ctx, {
    actor: SYSTEM_ACTOR,
    action: 'reconcile-remove-foreign',
    outcome: removed ? 'ok' : 'failed',
    reason: `role ${where} is under /aws-access/ but was not made by the bot`,
    details: { account: accountId },
  });
  await safely(ctx, 'security alert', () =>
    ctx.notifier.alertSecurity(
      `Reconcile ${removed ? 'removed' : 'found (already gone)'} role ${where} in ${accountId}: it is under /aws-access/ but the bot never makes roles there (sub-path or foreign name). Find out who created it.`,
    ),
  );
  return removed;
}

/**
 * identity-center backend: an assignment of a bot-owned permission set that no request holds
 * (made outside the bot, or left by a lost store): removed, audited and reported to security.
 */
async function removeUnheldAssignment(
  ctx: RequestContext,
  accountId: string,
  role: ManagedRole,
  assignment: NonNullable<ManagedRole['assignment']>,
): Promise<boolean> {
  const { removed } = await ctx.grants.removeForeignRole!(accountId, role);
  const what = `assignment of permission set ${role.roleName} to ${assignment.principalType} ${assignment.principalId}`;
  await record(ctx, {
    actor: SYSTEM_ACTOR,
    action: 'reconcile-remove-foreign',
    outcome: removed ? 'ok' : 'failed',
    reason: `${what} is not held by any request`,
    details: { account: accountId },
  });
  await safely(ctx, 'security alert', () =>
    ctx.notifier.alertSecurity(
      `Reconcile ${removed ? 'removed' : 'found (already gone or now held)'} the ${what} in ${accountId}: the permission set is the bot's, but no request of the bot holds this assignment. Find out who created it.`,
    ),
  );
  return removed;
}

/** An active grant whose role is gone: someone outside the bot removed it. */
export async function reportMissingRole(ctx: RequestContext, request: AccessRequest): Promise<void> {
  await record(ctx, {
    actor: SYSTEM_ACTOR,
    action: 'reconcile-missing-role',
    outcome: 'failed',
    requestId: request.id,
    stateBefore: request.state,
    stateAfter: request.state,
    details: { account: request.accountId },
  });
  await ctx.notifier.alertSecurity(
    `Request ${request.id} is an active grant but its role ${roleNameOf(ctx, request.id, request.roleName)} is missing in ${request.accountId}; it was removed outside the bot.`,
    request,
  );
}
