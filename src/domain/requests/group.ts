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
 */
import { CommandSyntaxError, parseTargets } from '../command.js';
import { formatDuration } from '../duration.js';
import { holdsRole, type AccessRequest } from '../access-request.js';
import { refusal, type ApprovalRule, type Refusal } from '../approval-policy.js';
import type { Account, Delivery } from '../ports.js';
import type { GroupView, RequestGroup } from '../request-group.js';
import { approvalContent } from '../request-integrity.js';
import { prepare, requestRecord, submit, type SubmitOptions } from './ask.js';
import {
  isInvolved,
  membersOf,
  record,
  recordStrictly,
  safely,
  transitionEvent,
  type RequestContext,
} from './context.js';
import { checkDecider, unrecordedApproval } from './decide.js';
import { extendGrant } from './extend.js';
import { groupViewOf } from './group-gate.js';
import { provision } from './provision.js';
import { revokeGrant, type RevokeOptions } from './revoke.js';
import {
  GrantOperationError,
  SYSTEM_ACTOR,
  type ActionResult,
  type PreparedRequest,
  type RequestDraft,
} from './types.js';

export { groupViewOf } from './group-gate.js';

export const DEFAULT_MAX_ACCOUNTS_PER_REQUEST = 20;
const GROUP_PREFIX = 'g-';
const OU_PREFIX = 'ou:';

export function isGroupId(id: string): boolean {
  return id.startsWith(GROUP_PREFIX);
}

/** A group's id from the id its intake would give a single request (`r-…` → `g-…`). */
function groupIdFrom(requestId: string): string {
  return `${GROUP_PREFIX}${requestId.replace(/^r-/, '')}`;
}

export type GroupResult = { ok: true; view: GroupView; message: string } | { ok: false; refusal: Refusal };
export type Submitted =
  { ok: true; request: AccessRequest; group?: GroupView } | { ok: false; refusals: Refusal[] };

/**
 * The accounts under an OU named by id or by name (case-insensitive), nested OUs included: every
 * account whose OU path passes through it. The directory lists active accounts only.
 */
export function accountsUnderOu(accounts: readonly Account[], query: string): Account[] | Refusal {
  const wanted = query.trim().toLowerCase();
  const ous = new Map<string, string>();
  for (const account of accounts) for (const ou of account.ouPath) ous.set(ou.id, ou.name);
  let ids = [...ous.keys()].filter((id) => id.toLowerCase() === wanted);
  if (!ids.length) ids = [...ous].filter(([, name]) => name.toLowerCase() === wanted).map(([id]) => id);
  if (!ids.length) {
    return refusal(
      'unknown-ou',
      `no OU called "${query}" holds an active account (name the OU or give its id, e.g. ou:ou-ab12-cd34ef56)`,
      'account',
    );
  }
  if (ids.length > 1) {
    return refusal(
      'ambiguous-ou',
      `more than one OU is called "${query}" (${ids.join(', ')}); name one by its id, e.g. ou:${ids[0]}`,
      'account',
    );
  }
  return accounts.filter((a) => a.ouPath.some((ou) => ou.id === ids[0]));
}

/** The accounts a request names (accounts and `ou:` entries), de-duplicated, within the limit. */
export async function resolveTargets(
  ctx: RequestContext,
  targets: readonly string[],
): Promise<{ ok: true; accounts: Account[] } | { ok: false; refusals: Refusal[] }> {
  const isOu = (t: string) => t.toLowerCase().startsWith(OU_PREFIX);
  const all = targets.some(isOu) ? await ctx.accounts.listAccounts() : [];
  const refusals: Refusal[] = [];
  const found: Account[] = [];
  for (const target of targets) {
    if (isOu(target)) {
      const under = accountsUnderOu(all, target.slice(OU_PREFIX.length));
      if (Array.isArray(under)) found.push(...under);
      else refusals.push(under);
      continue;
    }
    const account = await ctx.accounts.findAccount(target);
    if (account) found.push(account);
    else refusals.push(refusal('unknown-account', `no account called "${target}"`, 'account'));
  }
  if (refusals.length) return { ok: false, refusals };
  const accounts = [...new Map(found.map((a) => [a.id, a])).values()];
  const max = ctx.settings.maxAccountsPerRequest ?? DEFAULT_MAX_ACCOUNTS_PER_REQUEST;
  if (accounts.length > max) {
    return {
      ok: false,
      refusals: [
        refusal(
          'too-many-accounts',
          `the request covers ${accounts.length} accounts and the limit is ${max} per request; ask for fewer accounts at a time`,
          'account',
        ),
      ],
    };
  }
  return { ok: true, accounts };
}

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
      if (!existing.group.message) await announce(ctx, existing);
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
  for (const account of resolved.accounts) {
    const one = await prepare(ctx, { ...draft, account: account.id });
    if (one.ok) prepared.push(one.prepared);
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
      } on each account (rule ${rule?.name ?? lead.ruleName}, the strictest of its accounts).`,
    ),
  );
  return { group: ref ? { ...view.group, message: ref } : view.group, members: view.members };
}

/** The accounts whose own rule auto-approves, approved by the bot once the rest of the group is. */
async function approveAutoMembers(ctx: RequestContext, view: GroupView, action: string): Promise<void> {
  for (const member of view.members) {
    if (member.approvalsRequired !== 0 || member.state !== 'pending') continue;
    const moved = await ctx.store.transition(member.id, {
      from: ['pending'],
      to: 'approved',
      patch: { autoApproved: true, decidedBy: SYSTEM_ACTOR, decidedAt: ctx.clock.now() },
    });
    if (moved.ok) {
      await record(
        ctx,
        transitionEvent(SYSTEM_ACTOR, action, moved, `rule ${member.ruleName}`, 'ok', {
          group: view.group.id,
        }),
      );
    }
  }
}

/** Grants every approved account of the group (in parallel) and sends one DM listing them all. */
export async function provisionGroup(ctx: RequestContext, groupId: string): Promise<GroupView | undefined> {
  const view = await groupViewOf(ctx, groupId);
  if (!view) return undefined;
  const grants: Array<{ request: AccessRequest; delivery: Delivery }> = [];
  await Promise.all(
    view.members
      .filter((m) => m.state === 'approved')
      .map(async (m) => {
        try {
          await provision(ctx, m.id, { deliver: (request, delivery) => grants.push({ request, delivery }) });
        } catch (error) {
          // The account stays approved: reconcile grants it (or fails it) after the timeout.
          ctx.onError(error, 'granting an account of a multi-account request; reconcile retries it');
        }
      }),
  );
  const after = (await groupViewOf(ctx, groupId)) ?? view;
  const order = new Map(after.group.memberIds.map((id, i) => [id, i]));
  grants.sort((a, b) => (order.get(a.request.id) ?? 0) - (order.get(b.request.id) ?? 0));
  if (grants.length) await safely(ctx, 'delivery DM', () => ctx.groupNotifier!.groupDelivered(after, grants));
  const active = after.members.filter((m) => m.state === 'active').length;
  await safely(ctx, 'message update', () =>
    ctx.groupNotifier!.groupChanged(
      after,
      active === after.members.length
        ? 'access granted'
        : `${active} of ${after.members.length} accounts granted`,
    ),
  );
  return after;
}

function missingGroup(groupId: string): { ok: false; refusal: Refusal } {
  return { ok: false, refusal: refusal('not-found', `request ${groupId} does not exist`) };
}

/**
 * Approve on the group's message: counted on every waiting account whose rule lets the clicker
 * decide (each checked as a single request's click is, self-approval refused); when every
 * account is approved, the auto-approving ones follow and all are granted.
 */
export async function approveGroup(
  ctx: RequestContext,
  groupId: string,
  clickerId: string,
): Promise<GroupResult> {
  const view = await groupViewOf(ctx, groupId);
  if (!view) return missingGroup(groupId);
  const counted: AccessRequest[] = [];
  let firstRefusal: Refusal | undefined;
  for (const member of view.members) {
    if (member.approvalsRequired === 0 || member.state !== 'pending') continue;
    const checked = await checkDecider(ctx, member.id, clickerId, 'approve');
    if (!('id' in checked)) {
      firstRefusal ??= checked;
      continue;
    }
    await ctx.store.setApprovalProof(
      member.id,
      clickerId,
      ctx.signer.sign(approvalContent(member.id, clickerId)),
    );
    const outcome = await ctx.store.approve(member.id, clickerId, ctx.clock.now());
    if (!('request' in outcome)) {
      firstRefusal ??= refusal(
        'not-pending',
        `${member.accountName} of request ${groupId} is no longer waiting`,
      );
      continue;
    }
    const recorded = await recordStrictly(ctx, {
      actor: clickerId,
      action: 'approve',
      outcome: 'ok',
      requestId: member.id,
      stateBefore: 'pending',
      stateAfter: outcome.request.state,
      details: { approvals: outcome.count, required: outcome.request.approvalsRequired, group: groupId },
    });
    if (!recorded) {
      await unrecordedApproval(ctx, outcome.request, clickerId);
      await endGroup(ctx, groupId, SYSTEM_ACTOR, 'deny', 'an approval could not be written to the audit log');
      return {
        ok: false,
        refusal: refusal(
          'wrong-state',
          `your approval of request ${groupId} could not be recorded in the audit log, so it does not count: the request was ended and nothing was granted`,
        ),
      };
    }
    counted.push(outcome.request);
  }
  if (!counted.length) {
    return {
      ok: false,
      refusal:
        firstRefusal ??
        refusal('not-pending', `request ${groupId} is not waiting for approvals; nothing was changed`),
    };
  }
  const after = (await groupViewOf(ctx, groupId)) ?? view;
  const waiting = after.members.filter((m) => m.approvalsRequired > 0 && m.state === 'pending');
  const names = counted.map((m) => m.accountName).join(', ');
  if (waiting.length) {
    await safely(ctx, 'message update', () =>
      ctx.groupNotifier!.groupChanged(after, `<@${clickerId}> approved (${names})`),
    );
    return {
      ok: true,
      view: after,
      message: `Approval counted on ${names}. Request ${groupId} still waits for approvals on ${waiting
        .map((m) => `${m.accountName} (${m.approvals.length} of ${m.approvalsRequired})`)
        .join(', ')}.`,
    };
  }
  await approveAutoMembers(ctx, after, 'auto-approve');
  for (const member of after.members) await ctx.scheduler.cancelPending(member.id);
  await safely(ctx, 'requester DM', () =>
    ctx.notifier.toRequester(
      after.members[0]!,
      `Your request ${groupId} was approved on all ${after.members.length} accounts. Granting access now…`,
    ),
  );
  const granted = (await provisionGroup(ctx, groupId)) ?? after;
  return {
    ok: true,
    view: granted,
    message: `Approved request ${groupId} (${granted.members.length} accounts).`,
  };
}

/** Deny on the group's message: any approver of one of its waiting accounts ends all of them. */
export async function denyGroup(
  ctx: RequestContext,
  groupId: string,
  clickerId: string,
  reason: string,
): Promise<GroupResult> {
  const allowed = await checkGroupDecider(ctx, groupId, clickerId, 'deny');
  if (allowed !== true) return { ok: false, refusal: allowed };
  return endGroup(ctx, groupId, clickerId, 'deny', reason);
}

/** Whether the clicker may decide at least one waiting account of the group (deny, the deny form). */
export async function checkGroupDecider(
  ctx: RequestContext,
  groupId: string,
  clickerId: string,
  action: string,
): Promise<true | Refusal> {
  const view = await groupViewOf(ctx, groupId);
  if (!view) return missingGroup(groupId).refusal;
  let first: Refusal | undefined;
  for (const member of view.members) {
    if (member.state !== 'pending' || member.approvalsRequired === 0) continue;
    const checked = await checkDecider(ctx, member.id, clickerId, action);
    if ('id' in checked) return true;
    first ??= checked;
  }
  return (
    first ?? refusal('not-pending', `request ${groupId} is not waiting for a decision; nothing was changed`)
  );
}

/** Cancel by the requester: every account still waiting (or approved, not yet granted) ends. */
export async function cancelGroup(
  ctx: RequestContext,
  groupId: string,
  actorId: string,
): Promise<GroupResult> {
  const view = await groupViewOf(ctx, groupId);
  if (!view) return missingGroup(groupId);
  if (view.group.requesterId !== actorId) {
    const involved = await Promise.all(view.members.map((m) => isInvolved(ctx, m, actorId)));
    return involved.some(Boolean)
      ? { ok: false, refusal: refusal('not-yours', 'only the requester can cancel a request') }
      : missingGroup(groupId);
  }
  return endGroup(ctx, groupId, actorId, 'cancel');
}

/**
 * Ends every account that has no grant yet: waiting ones are denied / cancelled, approved ones
 * (waiting for the rest of the group) fail, so nothing of the request is granted afterwards.
 */
async function endGroup(
  ctx: RequestContext,
  groupId: string,
  actorId: string,
  action: 'deny' | 'cancel',
  reason?: string,
): Promise<GroupResult> {
  const view = await groupViewOf(ctx, groupId);
  if (!view) return missingGroup(groupId);
  const now = ctx.clock.now();
  const ended: AccessRequest[] = [];
  for (const member of view.members) {
    const moved =
      member.state === 'pending'
        ? await ctx.store.transition(member.id, {
            from: ['pending'],
            to: action === 'deny' ? 'denied' : 'cancelled',
            patch: { decidedBy: actorId, decidedAt: now, ...(reason ? { denyReason: reason } : {}) },
          })
        : member.state === 'approved'
          ? await ctx.store.transition(member.id, {
              from: ['approved'],
              to: 'failed',
              patch: {
                failure: `${action === 'deny' ? 'denied' : 'cancelled'} with the rest of request ${groupId}`,
              },
            })
          : undefined;
    if (!moved?.ok) continue;
    ended.push(moved.request);
    await record(ctx, transitionEvent(actorId, action, moved, reason, 'ok', { group: groupId }));
    await ctx.scheduler.cancelPending(member.id);
  }
  if (!ended.length) {
    return {
      ok: false,
      refusal: refusal('not-pending', `request ${groupId} is no longer waiting; nothing was changed`),
    };
  }
  const after = (await groupViewOf(ctx, groupId)) ?? view;
  const note = action === 'deny' ? `<@${actorId}> denied` : 'cancelled by the requester';
  await safely(ctx, 'message update', () => ctx.groupNotifier!.groupChanged(after, note));
  if (action === 'deny') {
    await safely(ctx, 'requester DM', () =>
      ctx.notifier.toRequester(
        ended[0]!,
        `Your request ${groupId} (${ended.length} accounts) was denied by ${actorId === SYSTEM_ACTOR ? 'the bot' : `<@${actorId}>`}. Nothing was granted.`,
      ),
    );
  }
  const verb = action === 'deny' ? 'Denied' : 'Cancelled';
  return { ok: true, view: after, message: `${verb} request ${groupId} (${ended.length} accounts).` };
}

/** One result line per account; ok when at least one account was acted on. */
async function onEachAccount(
  ctx: RequestContext,
  groupId: string,
  which: (m: AccessRequest) => boolean,
  act: (m: AccessRequest) => Promise<ActionResult>,
  none: string,
): Promise<GroupResult> {
  const view = await groupViewOf(ctx, groupId);
  if (!view) return missingGroup(groupId);
  const targets = view.members.filter(which);
  if (!targets.length) return { ok: false, refusal: refusal('wrong-state', none) };
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
  const involved =
    view.group.requesterId === userId ||
    (await Promise.all(view.members.map((m) => isInvolved(ctx, m, userId)))).some(Boolean);
  if (!involved) return missingGroup(groupId);
  return { ok: true, view, message: '' };
}
