/**
 * The approval policy: which rule governs a request, whether the request is acceptable under
 * it, and whether a given person may decide it right now. Pure: group memberships and profiles
 * are looked up by the caller and passed in.
 */
import { formatDuration } from './duration.js';
import type { Account, TemplateInfo } from './ports.js';
import { refusal, type Refusal } from './policy/refusal.js';
import type { ApprovalRule, DurationLimits } from './policy/rule.js';

export * from './policy/deciders.js';
export * from './policy/refusal.js';
export type * from './policy/rule.js';

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

/**
 * Whether what a person typed (id, name or alias) names this account. For finding an account
 * from user input only: rules and templates match by id (see `ruleMatches`), because
 * Organizations names change and need not be unique.
 */
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
  return [
    ...new Set(
      rules.flatMap((r) => [...(r.match.requesterGroups ?? []), ...(r.breakGlass?.requesterGroups ?? [])]),
    ),
  ];
}

export interface RuleContext {
  account: Account;
  templateName: string;
  requesterGroups: ReadonlySet<string>;
}

/**
 * `rule.match.accounts` holds account ids: the config's names and aliases are resolved to ids
 * when the settings are built (`resolveAccountRef`), so a renamed or duplicate Organizations
 * name never moves an account under another rule.
 */
export function ruleMatches(rule: ApprovalRule, ctx: RuleContext): boolean {
  const { accounts, ous, templates, requesterGroups } = rule.match;
  // Accounts and OUs together describe one set of places: either may admit the account.
  if (accounts || ous) {
    const byAccount = (accounts ?? []).some((id) => id === ctx.account.id);
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

/**
 * An account reference written in the config or a template: a 12-digit id, or a name or alias
 * the operator gave that account in `aws.accounts`. Never an Organizations name.
 */
export interface AccountRef {
  id: string;
  name?: string;
  aliases?: readonly string[];
}

export function resolveAccountRef(ref: string, accounts: readonly AccountRef[]): string | undefined {
  const wanted = ref.trim().toLowerCase();
  if (/^\d{12}$/.test(wanted)) return wanted;
  const found = accounts.filter(
    (a) => a.name?.toLowerCase() === wanted || (a.aliases ?? []).some((x) => x.toLowerCase() === wanted),
  );
  // Two configured accounts answering to one name: ambiguous, so it names neither.
  return found.length === 1 ? found[0]!.id : undefined;
}

/** Whether the template itself may be used on this account (`accountRefs` resolves its names). */
export function checkTemplateAllowed(
  template: TemplateInfo,
  account: Account,
  accountRefs: readonly AccountRef[] = [],
): Refusal | undefined {
  const { allowedAccounts, allowedOus } = template;
  if (!allowedAccounts?.length && !allowedOus?.length) return undefined;
  const ok =
    (allowedAccounts ?? []).some((ref) => resolveAccountRef(ref, accountRefs) === account.id) ||
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

/** Break-glass for this template is allowed to this requester by the rule's explicit allowance. */
export function breakGlassAllowed(
  rule: ApprovalRule,
  template: Pick<TemplateInfo, 'name' | 'breakGlass'>,
  requesterGroups: ReadonlySet<string>,
): boolean {
  const allowance = rule.breakGlass;
  if (!template.breakGlass || !allowance) return false;
  const named = allowance.templates.some((t) => t.toLowerCase() === template.name.toLowerCase());
  return named && allowance.requesterGroups.some((g) => requesterGroups.has(g));
}

/**
 * How an approved request came to be approved: what provisioning has to re-derive. 'on-call'
 * (the requester on call now, see on-call.ts) needs a look-up, so `grantPathFor` never gives it.
 */
export type GrantPath = 'approval' | 'auto' | 'break-glass' | 'on-call';

/**
 * Which path a new request takes under its rule: break-glass (the rule's allowance), auto
 * (an autoApprove rule; never for a break-glass template), or the rule's approvers. A
 * break-glass template under a rule that neither allows it to this requester nor has approvers
 * cannot be granted at all.
 */
export function grantPathFor(
  rule: ApprovalRule,
  template: Pick<TemplateInfo, 'name' | 'breakGlass'>,
  requesterGroups: ReadonlySet<string>,
): GrantPath | Refusal {
  if (breakGlassAllowed(rule, template, requesterGroups)) return 'break-glass';
  if (rule.autoApprove && !template.breakGlass) return 'auto';
  const { users, groups, onCall } = rule.approvers;
  if (users.length === 0 && groups.length === 0 && !onCall?.length) {
    return refusal(
      'break-glass-not-allowed',
      `break-glass template "${template.name}" is not allowed to you under rule "${rule.name}"; ask to be added to its break-glass requester groups`,
      'template',
    );
  }
  return 'approval';
}
