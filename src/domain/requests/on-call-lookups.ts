/**
 * The on-call look-ups the request use cases make: is the clicker on call on the rule's approver
 * schedules, is the requester on call for the rule's on-call auto-approval. Looked up only when
 * they can matter, so a provider being down slows nobody whom users or groups already admit.
 */
import { confirmedEmail } from '../identity.js';
import { checkPerson, isApprover, type ApprovalRule, type Person } from '../approval-policy.js';
import {
  approverSchedules,
  NOT_ON_CALL,
  onCallAutoApproveCovers,
  onCallStatus,
  scheduleLabel,
  type OnCallStatus,
} from '../on-call.js';
import type { AccessRequest } from '../access-request.js';
import type { TemplateInfo } from '../ports.js';
import type { RequestContext } from './context.js';

/** The clicker on the rule's `approvers.onCall` schedules now, unless users or groups admit them already. */
export async function clickerOnCall(
  ctx: RequestContext,
  rule: ApprovalRule | undefined,
  clickerId: string,
  clicker: Person | undefined,
  groupMembers: ReadonlyMap<string, readonly string[]>,
): Promise<OnCallStatus> {
  const schedules = approverSchedules(rule);
  if (!rule || schedules.length === 0 || checkPerson(clicker)) return NOT_ON_CALL;
  if (isApprover(rule, clickerId, groupMembers)) return NOT_ON_CALL;
  return onCallStatus(ctx.onCall, schedules, confirmedEmail(clicker));
}

/** The requester on the schedules of the rule's on-call auto-approval, when it covers this grant. */
export async function requesterOnCall(
  ctx: RequestContext,
  rule: ApprovalRule,
  template: Pick<TemplateInfo, 'name' | 'breakGlass'>,
  accountId: string,
  email: string | undefined,
): Promise<OnCallStatus> {
  if (!rule.onCallAutoApprove || !onCallAutoApproveCovers(rule, template, accountId)) return NOT_ON_CALL;
  return onCallStatus(ctx.onCall, rule.onCallAutoApprove.schedules, email);
}

/**
 * The on-call facts of the grant-time check (see grant-check.ts): whether the requester of an
 * auto-approved request is on call now for the rule's on-call auto-approval, and which approvals
 * come from someone on call now on the rule's approver schedules. A schedule that cannot be read
 * when it matters throws, like a Slack look-up failing there: the request stays approved and
 * reconcile tries again, rather than failing on a missing fact or granting without it.
 */
export async function onCallFacts(
  ctx: RequestContext,
  request: AccessRequest,
  rule: ApprovalRule | undefined,
  template: TemplateInfo | undefined,
  requester: Person | undefined,
  approvers: ReadonlyArray<Person | undefined>,
  groupMembers: ReadonlyMap<string, readonly string[]>,
): Promise<{ requester: boolean; approvers: boolean[] }> {
  if (!rule) return { requester: false, approvers: [] };
  const unconfirmed = (status: OnCallStatus) => {
    if (status.onCall.length === 0 && status.unavailable.length > 0) {
      throw new Error(
        `could not confirm on call now: ${status.unavailable.map(scheduleLabel).join(', ')} unavailable`,
      );
    }
    return status.onCall.length > 0;
  };
  const requesterStatus =
    request.autoApproved && !request.breakGlass && template
      ? await requesterOnCall(ctx, rule, template, request.accountId, confirmedEmail(requester))
      : NOT_ON_CALL;
  const approverStatus = await Promise.all(
    request.approvals.map((a, i) => clickerOnCall(ctx, rule, a.approverId, approvers[i], groupMembers)),
  );
  return { requester: unconfirmed(requesterStatus), approvers: approverStatus.map(unconfirmed) };
}

/** The names of those rules whose `approvers.onCall` schedules have the person on call now. */
export async function rulesOnCallFor(
  ctx: RequestContext,
  rules: ReadonlyArray<ApprovalRule | undefined>,
  userId: string,
): Promise<Set<string>> {
  const withSchedules = rules.filter((r): r is ApprovalRule => approverSchedules(r).length > 0);
  if (withSchedules.length === 0) return new Set();
  const person = await ctx.people.person(userId).catch(() => undefined);
  if (checkPerson(person)) return new Set();
  const statuses = await Promise.all(
    withSchedules.map((r) => onCallStatus(ctx.onCall, approverSchedules(r), confirmedEmail(person))),
  );
  return new Set(withSchedules.filter((_, i) => statuses[i]!.onCall.length > 0).map((r) => r.name));
}
