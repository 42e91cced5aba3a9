/**
 * Multi-account requests (`/aws-access sandbox,staging,ou:Dev …`): a GROUP of ordinary account
 * requests, one per account, each with its own state machine, signature, role, revoke and warn
 * jobs and audit events, linked by `groupId` (signed) and a small group record. A request for
 * one account is never a group. Decisions (docs/slack-flow.md, "Several accounts"):
 *
 * - Every account is checked as a single request would be (`prepare`); one refusal refuses the
 *   whole request, naming the account, and nothing is created. Break-glass is one account at a time.
 * - Strictest wins: every account whose rule needs approvers needs the largest count among them
 *   (signed into each record, checked again at grant time); an account whose own rule
 *   auto-approves (stored with 0) waits for the rest and is approved by the bot with them.
 * - One approvers' message for the group (the strictest rule's channel); an Approve click counts
 *   on each account whose rule lets the clicker decide (checked per account, at click time);
 *   Deny ends every account. Nothing is granted until every account is approved (group-gate.ts).
 * - One DM while waiting, one DM listing every grant; revoke, extend and cancel take the group id
 *   (every account) or an account's own request id (that account only).
 *
 * This file asks and announces; group-targets.ts resolves accounts and OUs, group-decisions.ts
 * approves / denies / cancels, group-grants.ts grants, group-actions.ts revokes and extends.
 */
import { CommandSyntaxError, parseTargets } from '../command.js';
import { formatDuration } from '../duration.js';
import { effectiveAccessLine } from '../effective-access.js';
import type { AccessRequest } from '../access-request.js';
import { refusal, type ApprovalRule, type Refusal } from '../approval-policy.js';
import type { Account } from '../ports.js';
import type { GroupView, RequestGroup } from '../request-group.js';
import { lookUpRequester, prepare, requestRecord, submit, type SubmitOptions } from './ask.js';
import { membersOf, record, safely, transitionEvent, type RequestContext } from './context.js';
import { groupViewOf } from './group-gate.js';
import { approveAutoMembers, provisionGroup } from './group-grants.js';
import { resolveTargets } from './group-targets.js';
import { SYSTEM_ACTOR, type PreparedRequest, type RequestDraft } from './types.js';

export { groupViewOf } from './group-gate.js';
export type { GroupResult } from './group-gate.js';
export { DEFAULT_MAX_ACCOUNTS_PER_REQUEST, accountsUnderOu, resolveTargets } from './group-targets.js';

const GROUP_PREFIX = 'g-';

export function isGroupId(id: string): boolean {
  return id.startsWith(GROUP_PREFIX);
}

/** A group's id from the id its intake would give a single request (`r-…` → `g-…`). */
function groupIdFrom(requestId: string): string {
  return `${GROUP_PREFIX}${requestId.replace(/^r-/, '')}`;
}

export type Submitted =
  { ok: true; request: AccessRequest; group?: GroupView } | { ok: false; refusals: Refusal[] };

/**
 * Submits a request whose account part names several accounts (`isMultiTarget`): resolves them,
 * checks each, creates the group and its account requests, and routes it. Resolving to one
 * account makes an ordinary single request. Submitted again under the same `requestId` (the
 * intake job ran twice), the group on record is returned and nothing is created.
 */
export async function submitGroup(
  ctx: RequestContext,
  draft: RequestDraft,
  options: SubmitOptions = {},
): Promise<Submitted> {
  const refuse = async (refusals: Refusal[]): Promise<Submitted> => {
    await record(ctx, {
      actor: draft.requesterId,
      action: 'request',
      outcome: 'refused',
      reason: refusals
        .map((r) => r.message)
        .join('; ')
        .slice(0, 500),
      details: { account: draft.account.slice(0, 64), template: draft.template.slice(0, 64) },
    });
    return { ok: false, refusals };
  };
  if (!ctx.groups || !ctx.groupNotifier) {
    return refuse([refusal('unknown-account', 'this deployment takes one account per request', 'account')]);
  }
  let targets: string[];
  try {
    targets = parseTargets(draft.account);
  } catch (error) {
    if (error instanceof CommandSyntaxError)
      return refuse([refusal('unknown-account', error.message, 'account')]);
    throw error;
  }
  const groupId = groupIdFrom(options.requestId ?? ctx.newId());
  if (options.requestId) {
    const existing = await groupViewOf(ctx, groupId);
    if (existing) {
      if (existing.group.requesterId !== draft.requesterId) {
        throw new Error(`request id ${groupId} belongs to another requester`);
      }
      if (existing.members.length < existing.group.memberIds.length) {
        return refuse([await abandon(ctx, existing)]);
      }
      // Announced only while it waits for approvers (an auto-approved group has no message).
      const waiting = existing.members.some((m) => m.state === 'pending' && m.approvalsRequired > 0);
      if (!existing.group.message && waiting) await announce(ctx, existing);
      return { ok: true, request: existing.members[0]!, group: existing };
    }
  }
  const resolved = await resolveTargets(ctx, targets);
  if (!resolved.ok) return refuse(resolved.refusals);
  if (resolved.accounts.length === 1) {
    return submit(ctx, { ...draft, account: resolved.accounts[0]!.id }, options);
  }

  const prepared: PreparedRequest[] = [];
  const refusals: Array<{ account: Account; refusal: Refusal }> = [];
  const requester = await lookUpRequester(ctx, draft.requesterId);
  for (const account of resolved.accounts) {
    const one = await prepare(ctx, { ...draft, account: account.id }, requester);
    // On-call auto-approval pages security for one grant it made alone; in a group the account
    // goes through the approvers with the rest (like break-glass, one account at a time).
    if (one.ok) prepared.push(one.prepared.grantPath === 'on-call' ? asApproval(one.prepared) : one.prepared);
    else refusals.push(...one.refusals.map((r) => ({ account, refusal: r })));
  }
  if (refusals.length) return refuse(perAccount(refusals));
  if (prepared.some((p) => p.grantPath === 'break-glass')) {
    return refuse([
      refusal(
        'multi-account-break-glass',
        'break-glass takes one account at a time: ask for each account with its own /aws-access <account> … so each use is paged and reviewed',
        'account',
      ),
    ]);
  }
  const short = await tooFewApprovers(ctx, prepared);
  if (short) return refuse([short]);
  return { ok: true, ...(await openGroup(ctx, groupId, prepared, options.requestId)) };
}

function asApproval(prepared: PreparedRequest): PreparedRequest {
  const { onCallSchedules: _dropped, ...rest } = prepared;
  return { ...rest, grantPath: 'approval' };
}

/**
 * Strictest wins can ask a rule for more approvals than it has people: such a request could
 * only expire, so it is refused up front, naming the rule. Group look-ups are strict (a Slack
 * failure throws and the intake retries) so an outage never reads as "no approvers".
 */
async function tooFewApprovers(
  ctx: RequestContext,
  prepared: PreparedRequest[],
): Promise<Refusal | undefined> {
  const needApproval = prepared.filter((p) => p.grantPath === 'approval');
  const required = Math.max(0, ...needApproval.map((p) => p.rule.approvalsRequired));
  const rules = [...new Map(needApproval.map((p) => [p.rule.name, p.rule])).values()];
  for (const rule of rules) {
    if (rule.approvalsRequired >= required) continue;
    const members = await membersOf(ctx, rule.approvers.groups, true);
    const people = new Set([...rule.approvers.users, ...[...members.values()].flat()]);
    people.delete(prepared[0]!.requester.id);
    if (people.size < required) {
      const accounts = needApproval.filter((p) => p.rule.name === rule.name).map((p) => p.account.name);
      return refusal(
        'too-few-approvers',
        `every account of this request needs ${required} approvals (its strictest rule), but rule "${rule.name}" (${accounts.join(', ')}) has only ${people.size} approver${people.size === 1 ? '' : 's'} besides you; ask for those accounts in a request of their own`,
        'account',
      );
    }
  }
  return undefined;
}

/**
 * An intake run cut off while it was creating the accounts' requests left a group that is not
 * whole; which accounts were missing is not on record, so it is never announced: the accounts
 * that were created are cancelled by the bot and the requester is asked to ask again.
 */
async function abandon(ctx: RequestContext, view: GroupView): Promise<Refusal> {
  for (const member of view.members) {
    const moved = await ctx.store.transition(member.id, {
      from: ['pending'],
      to: 'cancelled',
      patch: { decidedBy: SYSTEM_ACTOR, decidedAt: ctx.clock.now() },
    });
    if (!moved.ok) continue;
    await record(
      ctx,
      transitionEvent(SYSTEM_ACTOR, 'cancel', moved, 'the request was cut off while being created', 'ok', {
        group: view.group.id,
      }),
    );
    await ctx.scheduler.cancelPending(member.id);
  }
  return refusal(
    'wrong-state',
    `request ${view.group.id} was cut off while it was being created; nothing was granted, please ask again`,
  );
}

/** Refusals named per account; one that every account gave (about the requester) is said once. */
function perAccount(refusals: Array<{ account: Account; refusal: Refusal }>): Refusal[] {
  const accounts = new Set(refusals.map((r) => r.account.id));
  const byMessage = new Map<string, Array<{ account: Account; refusal: Refusal }>>();
  for (const r of refusals)
    byMessage.set(r.refusal.message, [...(byMessage.get(r.refusal.message) ?? []), r]);
  return [...byMessage.values()].map((same) =>
    same.length === accounts.size && accounts.size > 1
      ? same[0]!.refusal
      : {
          ...same[0]!.refusal,
          message: same
            .map(({ account }) => `${account.name} (${account.id})`)
            .join(', ')
            .concat(`: ${same[0]!.refusal.message}`),
        },
  );
}

async function openGroup(
  ctx: RequestContext,
  groupId: string,
  prepared: PreparedRequest[],
  baseId?: string,
): Promise<{ request: AccessRequest; group: GroupView }> {
  const now = ctx.clock.now();
  const needApproval = prepared.filter((p) => p.grantPath === 'approval');
  const required = Math.max(0, ...needApproval.map((p) => p.rule.approvalsRequired));
  const pendingUntil = now + Math.min(...prepared.map((p) => p.rule.ttl)) * 1000;
  const ids = prepared.map((_, i) => (baseId ? `${baseId}-${i + 1}` : ctx.newId()));
  const group: RequestGroup = {
    id: groupId,
    requesterId: prepared[0]!.requester.id,
    memberIds: ids,
    createdAt: now,
  };
  // The group first: an intake run cut off after it finds it and creates nothing twice.
  if (!(await ctx.groups!.create(group))) throw new Error(`request ${groupId} already exists`);
  const members: AccessRequest[] = [];
  for (const [i, p] of prepared.entries()) {
    const member = await ctx.store.create(
      requestRecord(ctx, p, ids[i]!, now, {
        groupId,
        approvalsRequired: p.grantPath === 'approval' ? required : 0,
        pendingUntil,
      }),
    );
    members.push(member);
    await record(ctx, {
      actor: member.requesterId,
      action: 'request',
      outcome: 'ok',
      requestId: member.id,
      stateAfter: 'pending',
      reason: member.reason,
      details: {
        account: member.accountId,
        template: member.templateName,
        duration: formatDuration(member.durationSeconds),
        rule: member.ruleName,
        group: groupId,
      },
    });
  }
  const view = { group, members };
  if (needApproval.length === 0) {
    await approveAutoMembers(ctx, view, 'auto-approve');
    const granted = await provisionGroup(ctx, groupId);
    return { request: granted?.members[0] ?? members[0]!, group: granted ?? view };
  }
  const announced = await announce(ctx, view);
  return { request: announced.members[0]!, group: announced };
}

/** The rule that decides where the group's message goes: most approvals, first named on a tie. */
function strictestRule(ctx: RequestContext, members: readonly AccessRequest[]): ApprovalRule | undefined {
  let strictest: ApprovalRule | undefined;
  for (const m of members) {
    const rule = ctx.settings.rules.find((r) => r.name === m.ruleName);
    if (rule && (!strictest || rule.approvalsRequired > strictest.approvalsRequired)) strictest = rule;
  }
  return strictest;
}

/**
 * A waiting group whose approvers' message was never posted (Slack failed when it was asked:
 * the post is best effort) is posted now; its first account's reminder asks (timers.ts), so the
 * approvers get buttons at the latest then. True when it posted one.
 */
export async function postMissingGroupMessage(ctx: RequestContext, groupId: string): Promise<boolean> {
  const view = await groupViewOf(ctx, groupId);
  if (!view || view.group.message || !ctx.groupNotifier) return false;
  const waiting = view.members.filter((m) => m.approvalsRequired > 0 && m.state === 'pending');
  const rule = strictestRule(ctx, waiting);
  if (!rule) return false;
  const ref = await ctx.groupNotifier.groupApprovalRequested(view, rule);
  if (!ref) return false;
  await ctx.groups!.setMessage(groupId, ref);
  return true;
}

/** The one approvers' message, each account's pending timers, and one DM to the requester. */
async function announce(ctx: RequestContext, view: GroupView): Promise<GroupView> {
  const rule = strictestRule(
    ctx,
    view.members.filter((m) => m.approvalsRequired > 0),
  );
  const ref = rule
    ? await safely(ctx, 'approval message', () => ctx.groupNotifier!.groupApprovalRequested(view, rule))
    : undefined;
  if (ref) await ctx.groups!.setMessage(view.group.id, ref);
  const lead = view.members[0]!;
  for (const member of view.members) {
    // Every account expires on its own timer; only the first reminds and escalates, so the
    // approvers hear once per request (later timers fire after the TTL and find nothing pending).
    const quiet = member.pendingUntil + 1;
    await ctx.scheduler.schedulePending(member.id, {
      remindAt: member === lead && rule ? member.createdAt + rule.reminderAfter * 1000 : quiet,
      escalateAt: member === lead && rule ? member.createdAt + rule.escalateAfter * 1000 : quiet,
      expireAt: member.pendingUntil,
    });
  }
  const required = Math.max(...view.members.map((m) => m.approvalsRequired));
  await safely(ctx, 'requester DM', () =>
    ctx.notifier.toRequester(
      lead,
      `Your request ${view.group.id} for ${lead.templateName} on ${view.members.length} accounts (${view.members
        .map((m) => m.accountName)
        .join(', ')}; ${formatDuration(lead.durationSeconds)}) is waiting for ${required} approval${
        required > 1 ? 's' : ''
      } on each account (rule ${rule?.name ?? lead.ruleName}, the strictest of its accounts).${scpLines(view.members)}`,
    ),
  );
  return { group: ref ? { ...view.group, message: ref } : view.group, members: view.members };
}

/** What the SCPs leave, one line per account they reduce (as a single request's DM says it). */
function scpLines(members: readonly AccessRequest[]): string {
  return members
    .map((m) => {
      const line = effectiveAccessLine(m.effectiveAccess);
      return line && m.effectiveAccess?.allowed !== m.effectiveAccess?.asked
        ? `\n${m.accountName}: ${line}`
        : '';
    })
    .join('');
}
