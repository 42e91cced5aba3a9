/**
 * Who may decide a request at the moment of a click: an approver of its rule as configured now,
 * not the requester (by Slack id, principal or e-mail), counted once per person.
 */
import type { AccessRequest } from '../access-request.js';
import { providerName, type OnCallStatus } from '../on-call.js';
import { checkPerson, refusal, type Person, type Refusal } from './refusal.js';
import type { ApprovalRule } from './rule.js';

/**
 * Whether `userId` is among the rule's approvers, given the members of its groups right now and
 * whether they are on call now on one of its `approvers.onCall` schedules (looked up by the caller).
 */
export function isApprover(
  rule: ApprovalRule,
  userId: string,
  groupMembers: ReadonlyMap<string, readonly string[]>,
  onCallNow = false,
): boolean {
  if (rule.approvers.users.includes(userId)) return true;
  if (onCallNow && (rule.approvers.onCall?.length ?? 0) > 0) return true;
  return rule.approvers.groups.some((g) => groupMembers.get(g)?.includes(userId) ?? false);
}

export interface DecisionCheck {
  request: AccessRequest;
  /** The rule as configured now; undefined when it has been removed since the request. */
  rule: ApprovalRule | undefined;
  clickerId: string;
  clicker: Person | undefined;
  groupMembers: ReadonlyMap<string, readonly string[]>;
  /** The clicker on the rule's `approvers.onCall` schedules now (none looked up: not on call). */
  onCall?: OnCallStatus;
  /**
   * Who the people are beyond their Slack ids (`personKeys`: principal, e-mail): two Slack
   * accounts of one person are one person, for self-approval and for N of M.
   */
  identities?: {
    clicker: ReadonlySet<string>;
    requester: ReadonlySet<string>;
    /** The approvers counted so far. */
    approvers: ReadonlyArray<{ id: string; keys: ReadonlySet<string> }>;
  };
}

/**
 * Checked at every click, against the rule and group memberships of that moment: the request is
 * still pending, the clicker is not the requester, is an approver now, and has not yet counted.
 */
export function checkDecision(check: DecisionCheck): Refusal | undefined {
  const { request, clickerId } = check;
  if (request.state !== 'pending') {
    return refusal('not-pending', `request ${request.id} is already ${request.state}; nothing was changed`);
  }
  if (clickerId === request.requesterId) {
    return refusal('self-approval', 'you cannot decide your own request');
  }
  const { identities } = check;
  if (identities && sharesKey(identities.clicker, identities.requester)) {
    return refusal(
      'self-approval',
      'you cannot decide your own request: this Slack account has the same AWS identity or e-mail as the requester',
    );
  }
  const notApprover = checkApproverNow(check);
  if (notApprover) return notApprover;
  if (request.approvals.some((a) => a.approverId === clickerId)) {
    return refusal('already-approved', `you have already approved request ${request.id}`);
  }
  const twin = identities?.approvers.find((a) => a.id !== clickerId && sharesKey(identities.clicker, a.keys));
  if (twin) {
    return refusal(
      'same-person',
      `you have already approved request ${request.id} as <@${twin.id}> (the same AWS identity or e-mail); one person counts once`,
    );
  }
  return undefined;
}

function sharesKey(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  for (const key of a) if (b.has(key)) return true;
  return false;
}

/**
 * How many distinct people the approvals come from, given each approver's identity keys:
 * approvers sharing a principal or e-mail are one person.
 */
export function distinctPeople(approvers: ReadonlyArray<ReadonlySet<string>>): number {
  const people: Array<Set<string>> = [];
  for (const keys of approvers) {
    const same = people.find((p) => sharesKey(p, keys));
    if (same) for (const k of keys) same.add(k);
    else people.push(new Set(keys));
  }
  return people.length;
}

/**
 * The clicker is a person (not deleted, a guest or a bot) and an approver of the request's rule
 * as configured now; shared by approvals and break-glass reviews.
 */
export function checkApproverNow({
  request,
  rule,
  clickerId,
  clicker,
  groupMembers,
  onCall,
}: DecisionCheck): Refusal | undefined {
  const personProblem = checkPerson(clicker);
  if (personProblem) return { ...personProblem, code: 'not-an-approver' };
  if (!rule || !isApprover(rule, clickerId, groupMembers, (onCall?.onCall.length ?? 0) > 0)) {
    if (rule && onCall?.unavailable.length) {
      // Fail closed: a schedule that cannot be read approves nobody; the clicker is told why.
      const providers = [...new Set(onCall.unavailable.map((s) => providerName(s.provider)))].join(', ');
      return refusal(
        'on-call-unconfirmed',
        `could not confirm you are on call right now (${providers} unavailable); another approver can decide request ${request.id}`,
      );
    }
    return refusal(
      'not-an-approver',
      `you are not an approver for rule "${request.ruleName}" of request ${request.id}`,
    );
  }
  return undefined;
}
