/**
 * The last check before anything is granted. A request in `approved` says what it wants and who
 * approved it, but Redis is not trusted to say so: everything is derived again from the config
 * and the people as they are now. Pure: the service looks the facts up and passes them in.
 */
import type { AccessRequest } from './access-request.js';
import {
  checkPerson,
  checkTemplateAllowed,
  distinctPeople,
  findRule,
  grantPathFor,
  isApprover,
  maxDurationFor,
  refusal,
  type AccountRef,
  type ApprovalRule,
  type DurationLimits,
  type Person,
  type Refusal,
} from './approval-policy.js';
import { principalKey, type ResolvedPrincipal } from './identity.js';
import { onCallAutoApproveCovers } from './on-call.js';
import type { Account, TemplateInfo } from './ports.js';

export interface ApprovalFacts {
  approverId: string;
  person: Person | undefined;
  /** `personKeys` of the approver now. */
  keys: ReadonlySet<string>;
  /** The bot's signed proof of this approval verifies. */
  proofValid: boolean;
  /** On call now on one of the rule's `approvers.onCall` schedules. */
  onCall?: boolean;
}

export interface GrantFacts {
  request: AccessRequest;
  /** The request record's signature verifies (fields fixed at creation untouched). */
  signatureValid: boolean;
  rules: readonly ApprovalRule[];
  limits: DurationLimits;
  accountRefs?: readonly AccountRef[];
  /** The account as the directory knows it now, looked up by the request's account id. */
  account: Account | undefined;
  template: TemplateInfo | undefined;
  requester: Person | undefined;
  /** The requester's user groups now (at least those the rules refer to). */
  requesterGroups: ReadonlySet<string>;
  /** Problem with the requester's eligibility (requester groups, guest…) now, if any. */
  ineligible?: Refusal;
  /** The principal the identity map or e-mail template gives the requester now. */
  identity: ResolvedPrincipal | undefined;
  /** `personKeys` of the requester now. */
  requesterKeys: ReadonlySet<string>;
  approvals: readonly ApprovalFacts[];
  /** The members of the rule's approver groups now. */
  groupMembers: ReadonlyMap<string, readonly string[]>;
  /** The requester on call now on a schedule of the rule's `onCallAutoApprove`. */
  requesterOnCall?: boolean;
}

function notAllowed(message: string): Refusal {
  return refusal('not-allowed-at-grant', `not granted: ${message}`);
}

export function checkGrantable(facts: GrantFacts): Refusal | undefined {
  const { request, account, template } = facts;
  if (!facts.signatureValid) return notAllowed('the request record is not one the bot wrote');
  if (!account || account.id !== request.accountId) {
    return notAllowed(`account ${request.accountId} is not configured`);
  }
  if (!template) return notAllowed(`template "${request.templateName}" no longer exists`);
  const templateProblem = checkTemplateAllowed(template, account, facts.accountRefs);
  if (templateProblem) return notAllowed(templateProblem.message);
  const requesterProblem = checkPerson(facts.requester) ?? facts.ineligible;
  if (requesterProblem) return notAllowed(`the requester may not ask now (${requesterProblem.message})`);
  const wanted = principalKey(request.principalArn, request.principalSessionName);
  if (!facts.identity || principalKey(facts.identity.principalArn, facts.identity.sessionName) !== wanted) {
    return notAllowed('the requester is no longer mapped to the AWS principal the request names');
  }
  const rule = findRule(facts.rules, {
    account,
    templateName: template.name,
    requesterGroups: facts.requesterGroups,
  });
  if (!rule || rule.name !== request.ruleName) {
    return notAllowed(`rule "${request.ruleName}" no longer governs this request`);
  }
  const max = maxDurationFor(rule, template, facts.limits);
  if (request.durationSeconds > max || request.durationSeconds < facts.limits.min) {
    return notAllowed(`rule "${rule.name}" no longer allows a grant of this length`);
  }
  const path = grantPathFor(rule, template, facts.requesterGroups);
  if (typeof path !== 'string') return notAllowed(path.message);
  if (request.breakGlass) {
    return path === 'break-glass'
      ? undefined
      : notAllowed(`rule "${rule.name}" no longer allows break-glass to the requester`);
  }
  if (path === 'auto') return undefined;
  if (facts.requesterOnCall && onCallAutoApproveCovers(rule, template, account.id)) return undefined;
  return checkApprovals(facts, rule);
}

/** Enough distinct, eligible approvers of the rule as it is now, each approval signed by the bot. */
function checkApprovals(facts: GrantFacts, rule: ApprovalRule): Refusal | undefined {
  const valid: Array<ReadonlySet<string>> = [];
  for (const approval of facts.approvals) {
    if (!approval.proofValid) {
      return notAllowed(`the approval by ${approval.approverId} is not one the bot recorded`);
    }
    if (approval.approverId === facts.request.requesterId) continue;
    if ([...approval.keys].some((k) => facts.requesterKeys.has(k))) continue;
    if (checkPerson(approval.person)) continue;
    if (!isApprover(rule, approval.approverId, facts.groupMembers, approval.onCall)) continue;
    valid.push(approval.keys);
  }
  const people = distinctPeople(valid);
  // A multi-account request needs its strictest rule's count on every account (signed).
  const needed = Math.max(
    rule.approvalsRequired,
    facts.request.groupId ? facts.request.approvalsRequired : 0,
  );
  if (people < needed) {
    return notAllowed(
      `${people} of the approvals come from distinct approvers of rule "${rule.name}" as it is now; ${needed} needed`,
    );
  }
  return undefined;
}
