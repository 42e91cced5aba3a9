/**
 * The request lifecycle as one service: Slack listeners and BullMQ jobs call these methods and
 * present the result; nothing else changes a request. Every change goes through the store's
 * atomic transition and leaves an audit event; every refusal is audited too.
 *
 * Each method is one use case in src/domain/requests/ (ask, decide, provision, revoke, extend,
 * timers, review, reconcile, read), a free function of the shared context (requests/context.ts).
 */
import type { AccessRequest, RequestState } from './access-request.js';
import type { ApprovalRule, Refusal } from './approval-policy.js';
import { isMultiTarget } from './command.js';
import type { ManagedRole } from './ports.js';
import type { ExtensionAllowance } from './request-ports.js';
import * as ask from './requests/ask.js';
import { ruleNamed } from './requests/context.js';
import * as decide from './requests/decide.js';
import * as extend from './requests/extend.js';
import * as extensionDecisions from './requests/extension-decisions.js';
import * as group from './requests/group.js';
import * as groupActions from './requests/group-actions.js';
import * as groupDecisions from './requests/group-decisions.js';
import * as groupGrants from './requests/group-grants.js';
import * as provisioning from './requests/provision.js';
import * as read from './requests/read.js';
import * as reconcile from './requests/reconcile.js';
import * as review from './requests/review.js';
import * as revoke from './requests/revoke.js';
import * as timers from './requests/timers.js';
import type {
  ActionResult,
  Prepared,
  PreparedRequest,
  RequestDraft,
  RequestServiceDeps,
  RequestSettings,
} from './requests/types.js';

export * from './requests/types.js';
export type { RequestPatch } from './request-ports.js';

/** A group's answer as the answer about one of its accounts (the one acted on, if listed). */
function asActionResult(result: group.GroupResult, requestId: string): ActionResult {
  if (!result.ok) return result;
  const request = result.view.members.find((m) => m.id === requestId) ?? result.view.members[0]!;
  return { ok: true, request, message: result.message };
}

export class RequestService {
  constructor(private readonly ctx: RequestServiceDeps) {}

  get settings(): RequestSettings {
    return this.ctx.settings;
  }

  rule(name: string): ApprovalRule | undefined {
    return ruleNamed(this.ctx, name);
  }

  // ── asking, deciding, granting, revoking (requests/ask, decide, provision, revoke) ──
  prepare(draft: RequestDraft): Promise<Prepared> {
    return ask.prepare(this.ctx, draft);
  }
  open(prepared: PreparedRequest): Promise<AccessRequest> {
    return ask.open(this.ctx, prepared);
  }
  /** A draft naming several accounts (`a,b`, `ou:X`) becomes a multi-account request (requests/group). */
  submit(draft: RequestDraft, options?: ask.SubmitOptions): Promise<group.Submitted> {
    return isMultiTarget(draft.account)
      ? group.submitGroup(this.ctx, draft, options)
      : ask.submit(this.ctx, draft, options);
  }
  checkDecider(requestId: string, clickerId: string, action: string): Promise<Refusal | AccessRequest> {
    return decide.checkDecider(this.ctx, requestId, clickerId, action);
  }
  /** An account of a multi-account request (App Home lists each) is approved with its group. */
  async approve(requestId: string, clickerId: string): Promise<ActionResult> {
    const groupId = await this.groupIdOf(requestId);
    if (groupId)
      return asActionResult(await groupDecisions.approveGroup(this.ctx, groupId, clickerId), requestId);
    return decide.approve(this.ctx, requestId, clickerId);
  }
  /** A deny of one account of a multi-account request denies all of it. */
  async deny(requestId: string, clickerId: string, reason: string): Promise<ActionResult> {
    const groupId = await this.groupIdOf(requestId);
    if (groupId) {
      return asActionResult(await groupDecisions.denyGroup(this.ctx, groupId, clickerId, reason), requestId);
    }
    return decide.deny(this.ctx, requestId, clickerId, reason);
  }
  /** Cancelling one account of a multi-account request drops it; the rest goes on. */
  async cancel(requestId: string, actorId: string): Promise<ActionResult> {
    const result = await decide.cancel(this.ctx, requestId, actorId);
    if (result.ok && result.request.groupId) await groupDecisions.accountCancelled(this.ctx, result.request);
    return result;
  }
  private async groupIdOf(requestId: string): Promise<string | undefined> {
    return (await this.ctx.store.get(requestId))?.groupId;
  }
  /**
   * With `staleBefore` (reconcile's repair), an account of a multi-account request left waiting
   * only for its group's auto-approving accounts finishes the group (group-grants.ts).
   */
  async provision(
    requestId: string,
    options?: provisioning.ProvisionOptions,
  ): Promise<AccessRequest | undefined> {
    const after = await provisioning.provision(this.ctx, requestId, options);
    if (options?.staleBefore === undefined || after?.state !== 'approved' || !after.groupId) return after;
    const resumed = await groupGrants.resumeStuckGroup(this.ctx, after.groupId, options.staleBefore);
    return resumed?.members.find((m) => m.id === requestId) ?? after;
  }
  revokeGrant(requestId: string, actorId: string, options?: revoke.RevokeOptions): Promise<ActionResult> {
    return revoke.revokeGrant(this.ctx, requestId, actorId, options);
  }

  // ── multi-account requests (requests/group): the group id acts on every account ──
  isGroupId(id: string): boolean {
    return group.isGroupId(id);
  }
  approveGroup(groupId: string, clickerId: string): Promise<group.GroupResult> {
    return groupDecisions.approveGroup(this.ctx, groupId, clickerId);
  }
  checkGroupDecider(groupId: string, clickerId: string, action: string) {
    return groupDecisions.checkGroupDecider(this.ctx, groupId, clickerId, action);
  }
  denyGroup(groupId: string, clickerId: string, reason: string): Promise<group.GroupResult> {
    return groupDecisions.denyGroup(this.ctx, groupId, clickerId, reason);
  }
  cancelGroup(groupId: string, actorId: string): Promise<group.GroupResult> {
    return groupDecisions.cancelGroup(this.ctx, groupId, actorId);
  }
  revokeGroup(groupId: string, actorId: string, options?: revoke.RevokeOptions): Promise<group.GroupResult> {
    return groupActions.revokeGroup(this.ctx, groupId, actorId, options);
  }
  extendGroup(groupId: string, actorId: string, seconds: number): Promise<group.GroupResult> {
    return groupActions.extendGroup(this.ctx, groupId, actorId, seconds);
  }
  groupStatus(groupId: string, userId: string): Promise<group.GroupResult> {
    return groupActions.groupStatus(this.ctx, groupId, userId);
  }

  // ── extending (requests/extend, extension-decisions) ──
  extensionAllowance(request: AccessRequest): ExtensionAllowance {
    return extend.extensionAllowance(this.ctx, request);
  }
  extensionOffer(requestId: string, actorId: string) {
    return extend.extensionOffer(this.ctx, requestId, actorId);
  }
  extendGrant(requestId: string, actorId: string, seconds: number): Promise<ActionResult> {
    return extend.extendGrant(this.ctx, requestId, actorId, seconds);
  }
  approveExtension(requestId: string, clickerId: string, requestedAt?: number): Promise<ActionResult> {
    return extensionDecisions.approveExtension(this.ctx, requestId, clickerId, requestedAt);
  }
  denyExtension(requestId: string, clickerId: string, requestedAt?: number): Promise<ActionResult> {
    return extensionDecisions.denyExtension(this.ctx, requestId, clickerId, requestedAt);
  }

  // ── jobs (requests/timers, reconcile) and the break-glass review (requests/review) ──
  warnExpiry(requestId: string): Promise<boolean> {
    return timers.warnExpiry(this.ctx, requestId);
  }
  remind(requestId: string): Promise<boolean> {
    return timers.remind(this.ctx, requestId);
  }
  escalate(requestId: string): Promise<boolean> {
    return timers.escalate(this.ctx, requestId);
  }
  expirePending(requestId: string): Promise<boolean> {
    return timers.expirePending(this.ctx, requestId);
  }
  removeOrphanedRole(accountId: string, requestId: string, why: string): Promise<boolean> {
    return reconcile.removeOrphanedRole(this.ctx, accountId, requestId, why);
  }
  reportRoleTagMismatch(accountId: string, role: ManagedRole): Promise<void> {
    return reconcile.reportRoleTagMismatch(this.ctx, accountId, role);
  }
  removeForeignRole(accountId: string, role: ManagedRole): Promise<boolean> {
    return reconcile.removeForeignRole(this.ctx, accountId, role);
  }
  reportMissingRole(request: AccessRequest): Promise<void> {
    return reconcile.reportMissingRole(this.ctx, request);
  }
  reviewBreakGlass(requestId: string, clickerId: string): Promise<ActionResult> {
    return review.reviewBreakGlass(this.ctx, requestId, clickerId);
  }

  // ── reading (requests/read) ──
  listInState(state: RequestState, limit?: number): Promise<AccessRequest[]> {
    return read.listInState(this.ctx, state, limit);
  }
  get(requestId: string): Promise<AccessRequest | undefined> {
    return read.get(this.ctx, requestId);
  }
  listFor(userId: string): ReturnType<typeof read.listFor> {
    return read.listFor(this.ctx, userId);
  }
  waitingFor(userId: string): Promise<{ approvals: AccessRequest[]; reviews: AccessRequest[] }> {
    return read.waitingFor(this.ctx, userId);
  }
  refreshDelivery(requestId: string, actorId: string): Promise<ActionResult> {
    return read.refreshDelivery(this.ctx, requestId, actorId);
  }
  whyIneligible(userId: string): Promise<Refusal | undefined> {
    return read.whyIneligible(this.ctx, userId);
  }
  status(requestId: string, userId: string): Promise<ActionResult> {
    return read.status(this.ctx, requestId, userId);
  }
}
