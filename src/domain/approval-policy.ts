/**
 * The approval policy: which rule governs a request, whether the request is acceptable under
 * it, and whether a given person may decide it right now. Pure: group memberships and profiles
 * are looked up by the caller and passed in.
 */
import { formatDuration } from './duration.js';
import type { AccessRequest } from './access-request.js';
import type { Account, TemplateInfo } from './ports.js';

export interface ApprovalRule {
  name: string;
  match: { accounts?: string[]; ous?: string[]; templates?: string[]; requesterGroups?: string[] };
  approvers: { users: string[]; groups: string[] };
  approvalsRequired: number;
  reason: { required: boolean; pattern?: string; hint?: string };
  maxDuration?: number;
  autoApprove: boolean;
  channel?: string;
  reminderAfter: number;
  escalateAfter: number;
  escalationChannel?: string;
  ttl: number;
  extensions: { autoApprove: boolean };
}

export interface DurationLimits {
  min: number;
  max: number;
  maxExtensions: number;
  maxTotal: number;
}

export type RequestField = 'account' | 'template' | 'duration' | 'reason';

export type RefusalCode =
  | 'requester-ineligible'
  | 'requester-not-in-group'
  | 'no-identity'
  | 'unknown-account'
  | 'unknown-template'
  | 'template-not-allowed'
  | 'no-rule'
  | 'duration-too-long'
  | 'duration-too-short'
  | 'duration-invalid'
  | 'reason-required'
  | 'reason-too-long'
  | 'reason-pattern'
  | 'self-approval'
  | 'not-an-approver'
  | 'already-approved'
  | 'not-pending'
  | 'not-found'
  | 'not-yours'
  | 'wrong-state'
  | 'extension-limit'
  | 'extension-needs-approval'
  | 'not-break-glass'
  | 'already-reviewed'
  | 'request-expired'
  | 'grant-ended'
  | 'open-request-limit';

/** Why something was not done, in words the person can act on; `field` places it in a form. */
export interface Refusal {
  code: RefusalCode;
  message: string;
  field?: RequestField;
}

export function refusal(code: RefusalCode, message: string, field?: RequestField): Refusal {
  return { code, message, ...(field ? { field } : {}) };
}

/** A Slack profile, reduced to what decides whether someone may ask or approve. */
export interface Person {
  id: string;
  name?: string;
  email?: string;
  deleted?: boolean;
  isBot?: boolean;
  /** Multi-channel guest. */
  isRestricted?: boolean;
  /** Single-channel guest. */
  isUltraRestricted?: boolean;
}

/** Deleted accounts, guests and bots never request or approve access. */
export function checkPerson(person: Person | undefined): Refusal | undefined {
  if (!person) return refusal('requester-ineligible', 'your Slack account could not be found');
  if (person.deleted) return refusal('requester-ineligible', 'deactivated Slack accounts cannot use this');
  if (person.isBot) return refusal('requester-ineligible', 'bots cannot request or approve AWS access');
  if (person.isRestricted || person.isUltraRestricted) {
    return refusal('requester-ineligible', 'guest accounts cannot request or approve AWS access');
  }
  return undefined;
}

/** With `slack.requesterGroups` set, only their members may ask. */
export function checkEligibility(
  requesterGroups: readonly string[],
  memberOf: ReadonlySet<string>,
): Refusal | undefined {
  if (requesterGroups.length === 0) return undefined;
  if (requesterGroups.some((g) => memberOf.has(g))) return undefined;
  return refusal(
    'requester-not-in-group',
    'you are not in a user group that may request AWS access; ask your platform team to add you',
  );
}

/** An account reference in config (id, name or alias) names this account. */
export function accountMatches(account: Account, ref: string): boolean {
  const wanted = ref.trim().toLowerCase();
  return (
    account.id === wanted ||
    account.name.toLowerCase() === wanted ||
    account.aliases.some((a) => a.toLowerCase() === wanted)
  );
}

/** An OU reference covers the account when it is any of the account's ancestors. */
export function ouCovers(account: Account, ouId: string): boolean {
  return account.ouPath.some((ou) => ou.id === ouId);
}

/** Every user group a rule's match refers to: the requester's membership in these is looked up. */
export function groupsReferencedByRules(rules: readonly ApprovalRule[]): string[] {
  return [...new Set(rules.flatMap((r) => r.match.requesterGroups ?? []))];
}

export interface RuleContext {
  account: Account;
  templateName: string;
  requesterGroups: ReadonlySet<string>;
}

export function ruleMatches(rule: ApprovalRule, ctx: RuleContext): boolean {
  const { accounts, ous, templates, requesterGroups } = rule.match;
  // Accounts and OUs together describe one set of places: either may admit the account.
  if (accounts || ous) {
    const byAccount = (accounts ?? []).some((ref) => accountMatches(ctx.account, ref));
    const byOu = (ous ?? []).some((ou) => ouCovers(ctx.account, ou));
    if (!byAccount && !byOu) return false;
  }
  if (templates && !templates.some((t) => t.toLowerCase() === ctx.templateName.toLowerCase())) return false;
  if (requesterGroups && !requesterGroups.some((g) => ctx.requesterGroups.has(g))) return false;
  return true;
}

/** First matching rule wins; undefined means nobody may grant this and the request is refused. */
export function findRule(rules: readonly ApprovalRule[], ctx: RuleContext): ApprovalRule | undefined {
  return rules.find((rule) => ruleMatches(rule, ctx));
}

export function noRuleRefusal(account: Account, templateName: string): Refusal {
  return refusal(
    'no-rule',
    `no approval rule covers template "${templateName}" on account ${account.name} (${account.id}) for you, so it cannot be requested`,
    'account',
  );
}

/** Whether the template itself may be used on this account. */
export function checkTemplateAllowed(template: TemplateInfo, account: Account): Refusal | undefined {
  const { allowedAccounts, allowedOus } = template;
  if (!allowedAccounts?.length && !allowedOus?.length) return undefined;
  const ok =
    (allowedAccounts ?? []).some((ref) => accountMatches(account, ref)) ||
    (allowedOus ?? []).some((ou) => ouCovers(account, ou));
  if (ok) return undefined;
  return refusal(
    'template-not-allowed',
    `template "${template.name}" cannot be used on account ${account.name} (${account.id})`,
    'template',
  );
}

/** The longest first grant the rule, the template and the global limits all allow. */
export function maxDurationFor(rule: ApprovalRule, template: TemplateInfo, limits: DurationLimits): number {
  return Math.min(template.maxDurationSeconds, rule.maxDuration ?? Infinity, limits.max);
}

export interface DraftCheck {
  rule: ApprovalRule;
  template: TemplateInfo;
  durationSeconds: number;
  reason: string;
  limits: DurationLimits;
}

/**
 * The request form allows 500 characters; the command and a tampered form are held to the same,
 * so a reason always fits a Slack block and a rule's pattern never runs on a huge string.
 */
export const MAX_REASON_LENGTH = 500;

/** Every problem with the duration and reason, each placed on its field. */
export function checkDraft(draft: DraftCheck): Refusal[] {
  const problems: Refusal[] = [];
  const max = maxDurationFor(draft.rule, draft.template, draft.limits);
  if (!Number.isSafeInteger(draft.durationSeconds)) {
    // Only a tampered form value gets here (the command parses whole seconds).
    problems.push(refusal('duration-invalid', 'the duration must be a whole number of seconds', 'duration'));
  } else if (draft.durationSeconds > max) {
    problems.push(
      refusal(
        'duration-too-long',
        `${formatDuration(draft.durationSeconds)} is longer than allowed here (at most ${formatDuration(max)})`,
        'duration',
      ),
    );
  } else if (draft.durationSeconds < draft.limits.min) {
    problems.push(
      refusal(
        'duration-too-short',
        `${formatDuration(draft.durationSeconds)} is shorter than the minimum of ${formatDuration(draft.limits.min)}`,
        'duration',
      ),
    );
  }
  const reason = draft.reason.trim();
  const { required, pattern, hint } = draft.rule.reason;
  if (reason.length > MAX_REASON_LENGTH) {
    problems.push(
      refusal(
        'reason-too-long',
        `the reason is ${reason.length} characters long; at most ${MAX_REASON_LENGTH} are allowed`,
        'reason',
      ),
    );
  } else if (required && !reason) {
    problems.push(refusal('reason-required', 'a reason is required for this request', 'reason'));
  } else if (pattern && (reason || required) && !new RegExp(pattern).test(reason)) {
    problems.push(
      refusal(
        'reason-pattern',
        hint ? `the reason must ${hint}` : `the reason must match ${pattern}`,
        'reason',
      ),
    );
  }
  return problems;
}

/** Whether `userId` is among the rule's approvers, given the members of its groups right now. */
export function isApprover(
  rule: ApprovalRule,
  userId: string,
  groupMembers: ReadonlyMap<string, readonly string[]>,
): boolean {
  if (rule.approvers.users.includes(userId)) return true;
  return rule.approvers.groups.some((g) => groupMembers.get(g)?.includes(userId) ?? false);
}

export interface DecisionCheck {
  request: AccessRequest;
  /** The rule as configured now; undefined when it has been removed since the request. */
  rule: ApprovalRule | undefined;
  clickerId: string;
  clicker: Person | undefined;
  groupMembers: ReadonlyMap<string, readonly string[]>;
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
  const notApprover = checkApproverNow(check);
  if (notApprover) return notApprover;
  if (request.approvals.some((a) => a.approverId === clickerId)) {
    return refusal('already-approved', `you have already approved request ${request.id}`);
  }
  return undefined;
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
}: DecisionCheck): Refusal | undefined {
  const personProblem = checkPerson(clicker);
  if (personProblem) return { ...personProblem, code: 'not-an-approver' };
  if (!rule || !isApprover(rule, clickerId, groupMembers)) {
    return refusal(
      'not-an-approver',
      `you are not an approver for rule "${request.ruleName}" of request ${request.id}`,
    );
  }
  return undefined;
}
