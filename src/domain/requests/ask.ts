/**
 * Asking for access: a draft is checked against the requester, the account, the template and
 * the rule (prepare), then stored and routed to approvers or straight to a grant (open).
 */
import { formatDuration } from '../duration.js';
import { describeState, type AccessRequest } from '../access-request.js';
import {
  checkDraft,
  checkTemplateAllowed,
  findRule,
  grantPathFor,
  groupsReferencedByRules,
  noRuleRefusal,
  refusal,
  type ApprovalRule,
  type Person,
  type Refusal,
} from '../approval-policy.js';
import { effectiveAccessLine, scpRefusal, snapshotOf } from '../effective-access.js';
import { RequestExistsError } from '../request-ports.js';
import { confirmedEmail, resolveIdentity } from '../identity.js';
import { scheduleLabel } from '../on-call.js';
import { requestContent } from '../request-integrity.js';
import {
  ineligibility,
  membershipsOf,
  record,
  ruleNamed,
  safely,
  transitionEvent,
  type RequestContext,
} from './context.js';
import { pageOnCallApproval } from './on-call-approval.js';
import { requesterOnCall } from './on-call-lookups.js';
import { provision } from './provision.js';
import { SYSTEM_ACTOR, type Prepared, type PreparedRequest, type RequestDraft } from './types.js';

/** Who is asking: their profile and the user groups the policy looks at. */
export interface RequesterFacts {
  requester: Person | undefined;
  requesterGroups: Set<string>;
}

/**
 * Looked up once per request, however many accounts it names (a multi-account request checks
 * each account with the same facts instead of asking Slack again per account).
 */
export async function lookUpRequester(ctx: RequestContext, requesterId: string): Promise<RequesterFacts> {
  const { settings } = ctx;
  // One look-up of each group serves both the eligibility check and rule matching.
  const [requester, requesterGroups] = await Promise.all([
    ctx.people.person(requesterId),
    membershipsOf(ctx, requesterId, [
      ...new Set([...settings.requesterGroups, ...groupsReferencedByRules(settings.rules)]),
    ]),
  ]);
  return { requester, requesterGroups };
}

/** Checks a draft against the requester, the account, the template and the rule. */
export async function prepare(
  ctx: RequestContext,
  draft: RequestDraft,
  facts?: RequesterFacts,
): Promise<Prepared> {
  const refuse = async (refusals: Refusal[]): Promise<Prepared> => {
    await record(ctx, {
      actor: draft.requesterId,
      action: 'request',
      outcome: 'refused',
      reason: refusals.map((r) => r.message).join('; '),
      details: { account: draft.account.slice(0, 64), template: draft.template.slice(0, 64) },
    });
    return { ok: false, refusals };
  };
  const { settings } = ctx;
  const { requester, requesterGroups } = facts ?? (await lookUpRequester(ctx, draft.requesterId));
  const ineligible = ineligibility(ctx, requester, requesterGroups);
  if (ineligible || !requester) return refuse([ineligible!]);
  const overLimit = await openRequestLimit(ctx, requester.id);
  if (overLimit) return refuse([overLimit]);

  const refusals: Refusal[] = [];
  const account = await ctx.accounts.findAccount(draft.account);
  if (!account) {
    refusals.push(refusal('unknown-account', `no account called "${draft.account}"`, 'account'));
  }
  const template = ctx.templates.get(draft.template);
  if (!template) {
    const names = ctx.templates
      .list()
      .map((t) => t.name)
      .join(', ');
    refusals.push(
      refusal('unknown-template', `no template called "${draft.template}" (known: ${names})`, 'template'),
    );
  }
  if (!account || !template) return refuse(refusals);
  const notAllowed = checkTemplateAllowed(template, account, settings.accountRefs);
  if (notAllowed) return refuse([notAllowed]);

  const rule = findRule(settings.rules, { account, templateName: template.name, requesterGroups });
  if (!rule) return refuse([noRuleRefusal(account, template.name)]);
  refusals.push(
    ...checkDraft({
      rule,
      template,
      durationSeconds: draft.durationSeconds,
      reason: draft.reason,
      limits: settings.limits,
    }),
  );
  let grantPath = grantPathFor(rule, template, requesterGroups);
  if (typeof grantPath !== 'string') refusals.push(grantPath);
  // On call now for a template and account the rule's on-call auto-approval names: granted at
  // once. A schedule that cannot be read leaves the request to the approvers.
  const onCall =
    grantPath === 'approval'
      ? await requesterOnCall(ctx, rule, template, account.id, confirmedEmail(requester))
      : undefined;
  if (onCall?.onCall.length) grantPath = 'on-call';
  // The grant backend may find the person itself (identity-center: their one Identity Center
  // user); otherwise the identity map and e-mail template decide.
  // Only a confirmed Slack e-mail names anyone in AWS (see confirmedEmail).
  const email = confirmedEmail(requester);
  const found = await ctx.grants.identify?.(account.id, template.name, {
    slackUserId: requester.id,
    ...(email ? { email } : {}),
  });
  const identity =
    found === undefined
      ? resolveIdentity(settings.identities, requester.id, email)
      : 'principalArn' in found
        ? { principalArn: found.principalArn }
        : undefined;
  if (!identity) {
    refusals.push(
      refusal(
        'no-identity',
        found && 'refusal' in found
          ? found.refusal
          : 'your Slack account is not mapped to an AWS identity; ask your platform team to add you to the identity map',
      ),
    );
  }
  if (refusals.length || !identity || typeof grantPath !== 'string') return refuse(refusals);
  // Asked last, once the request is otherwise valid: the only check that may call AWS.
  const effective = await ctx.effectiveAccess?.forAccount(account, template.name);
  const nothingLeft = scpRefusal(effective, template.name, account.name);
  if (nothingLeft) return refuse([nothingLeft]);
  return {
    ok: true,
    prepared: {
      requester,
      principalArn: identity.principalArn,
      ...(identity.sessionName ? { principalSessionName: identity.sessionName } : {}),
      grantPath,
      ...(onCall?.onCall.length ? { onCallSchedules: onCall.onCall } : {}),
      account,
      template,
      rule,
      durationSeconds: draft.durationSeconds,
      reason: draft.reason.trim(),
      ...(effective ? { effectiveAccess: snapshotOf(effective) } : {}),
    },
  };
}

export interface SubmitOptions {
  /**
   * The id to create the request under, derived from what asked for it (the intake job of a
   * slash command): submitting again with the same id never creates a second request. The
   * store refuses a taken id atomically, so two runs at once create one request too.
   */
  requestId?: string;
}

/**
 * A new request's record, signed: what `open` stores, and what a multi-account request stores
 * for each of its accounts (requests/group.ts), with `groupId` and the group's approval count.
 */
export function requestRecord(
  ctx: RequestContext,
  prepared: PreparedRequest,
  id: string,
  now: number,
  group?: { groupId: string; approvalsRequired: number; pendingUntil: number },
): AccessRequest {
  const { rule, template, account, requester } = prepared;
  const draft: AccessRequest = {
    id,
    version: 1,
    state: 'pending',
    requesterId: requester.id,
    requesterName: requester.name,
    ...(requester.email ? { requesterEmail: requester.email } : {}),
    principalArn: prepared.principalArn,
    ...(prepared.principalSessionName ? { principalSessionName: prepared.principalSessionName } : {}),
    accountId: account.id,
    accountName: account.name,
    ouPath: account.ouPath,
    templateName: template.name,
    durationSeconds: prepared.durationSeconds,
    reason: prepared.reason,
    ruleName: rule.name,
    approvalsRequired: group?.approvalsRequired ?? rule.approvalsRequired,
    approvals: [],
    breakGlass: prepared.grantPath === 'break-glass',
    autoApproved: false,
    createdAt: now,
    updatedAt: now,
    pendingUntil: group?.pendingUntil ?? now + rule.ttl * 1000,
    extensions: 0,
    ...(prepared.effectiveAccess ? { effectiveAccess: prepared.effectiveAccess } : {}),
    ...(group ? { groupId: group.groupId } : {}),
  };
  draft.signature = ctx.signer.sign(requestContent(draft));
  return draft;
}

/** Creates the request and routes it: to approvers, or straight to a grant (auto / break-glass). */
export async function open(
  ctx: RequestContext,
  prepared: PreparedRequest,
  options: SubmitOptions = {},
): Promise<AccessRequest> {
  const now = ctx.clock.now();
  const { rule, template, account, requester } = prepared;
  const draft = requestRecord(ctx, prepared, options.requestId ?? ctx.newId(), now);
  let request: AccessRequest;
  try {
    request = await ctx.store.create(draft);
  } catch (error) {
    // Another run of the same intake created it a moment ago and is announcing it.
    const existing =
      options.requestId && error instanceof RequestExistsError
        ? await ctx.store.get(options.requestId)
        : undefined;
    if (existing?.requesterId === requester.id) return existing;
    throw error;
  }
  await record(ctx, {
    actor: requester.id,
    action: 'request',
    outcome: 'ok',
    requestId: request.id,
    stateAfter: 'pending',
    reason: request.reason,
    details: {
      account: account.id,
      template: template.name,
      duration: formatDuration(request.durationSeconds),
      rule: rule.name,
    },
  });

  if (prepared.grantPath !== 'approval') {
    const action = {
      'break-glass': 'break-glass',
      auto: 'auto-approve',
      'on-call': 'on-call-auto-approve',
    }[prepared.grantPath];
    const moved = await ctx.store.transition(request.id, {
      from: ['pending'],
      to: 'approved',
      patch: { autoApproved: true, decidedBy: SYSTEM_ACTOR, decidedAt: now },
    });
    if (!moved.ok) return (await ctx.store.get(request.id)) ?? request;
    await record(
      ctx,
      transitionEvent(
        SYSTEM_ACTOR,
        action,
        moved,
        `rule ${rule.name}`,
        'ok',
        prepared.onCallSchedules
          ? { onCall: prepared.onCallSchedules.map(scheduleLabel).join(', ') }
          : undefined,
      ),
    );
    if (prepared.grantPath === 'on-call')
      await pageOnCallApproval(ctx, moved.request, prepared.onCallSchedules ?? []);
    if (prepared.grantPath === 'break-glass') {
      const ref = await safely(ctx, 'break-glass alert', () => ctx.notifier.breakGlass(moved.request, rule));
      if (ref) await ctx.store.setMessage(request.id, ref);
    }
    try {
      return (await provision(ctx, request.id)) ?? moved.request;
    } catch (error) {
      // The request stands, approved: reconcile grants it after the provisioning timeout (or
      // fails it, saying why). Throwing here told the requester "nothing was changed" about a
      // request that was then granted (chaos run, #13: users.info rate-limited, Redis restart).
      ctx.onError(error, 'granting an approved request; reconcile retries it');
      return (await ctx.store.get(request.id).catch(() => undefined)) ?? moved.request;
    }
  }

  return announcePending(ctx, request, rule);
}

/** Posts the approvers' message, sets the pending timers and tells the requester. */
async function announcePending(
  ctx: RequestContext,
  request: AccessRequest,
  rule: ApprovalRule,
): Promise<AccessRequest> {
  const ref = await safely(ctx, 'approval message', () => ctx.notifier.approvalRequested(request, rule));
  if (ref) await ctx.store.setMessage(request.id, ref);
  await schedulePendingTimers(ctx, request, rule);
  const stored: AccessRequest = ref ? { ...request, message: ref } : request;
  await safely(ctx, 'requester DM', () =>
    ctx.notifier.toRequester(
      stored,
      `Your request ${stored.id} for ${stored.templateName} on ${stored.accountName} (${formatDuration(
        stored.durationSeconds,
      )}) is waiting for ${rule.approvalsRequired} approval${rule.approvalsRequired > 1 ? 's' : ''} (rule ${rule.name}).${withEffectiveAccess(stored)}`,
    ),
  );
  return stored;
}

/** The SCP line of the requester's DM, on its own line, when there is one to say. */
function withEffectiveAccess(request: AccessRequest): string {
  const line = effectiveAccessLine(request.effectiveAccess);
  return line ? `\n${line}` : '';
}

function schedulePendingTimers(ctx: RequestContext, request: AccessRequest, rule: ApprovalRule) {
  return ctx.scheduler.schedulePending(request.id, {
    remindAt: request.createdAt + rule.reminderAfter * 1000,
    escalateAt: request.createdAt + rule.escalateAfter * 1000,
    expireAt: request.pendingUntil,
  });
}

/**
 * A request submitted again under its id (the intake job ran twice: killed, stalled or retried
 * after the create). Nothing is created; a pending request whose approvers' message was never
 * posted is announced now (a run cut off between the create and the message), and its timers,
 * whose job ids derive from the request id, are set again (a no-op when they exist). Fails
 * closed: a request cut off before an auto-approval stays pending for the approvers.
 */
async function resume(ctx: RequestContext, request: AccessRequest): Promise<AccessRequest> {
  const rule = request.state === 'pending' ? ruleNamed(ctx, request.ruleName) : undefined;
  if (!rule) return request;
  if (!request.message) return announcePending(ctx, request, rule);
  await schedulePendingTimers(ctx, request, rule);
  return request;
}

export async function submit(
  ctx: RequestContext,
  draft: RequestDraft,
  options: SubmitOptions = {},
): Promise<{ ok: true; request: AccessRequest } | { ok: false; refusals: Refusal[] }> {
  if (options.requestId) {
    const existing = await ctx.store.get(options.requestId);
    if (existing) {
      if (existing.requesterId !== draft.requesterId) {
        throw new Error(`request id ${options.requestId} belongs to another requester`);
      }
      return { ok: true, request: await resume(ctx, existing) };
    }
  }
  const prepared = await prepare(ctx, draft);
  if (!prepared.ok) return prepared;
  return { ok: true, request: await open(ctx, prepared.prepared, options) };
}

/**
 * Why the requester may not open another request: they are at the configured limit of open
 * requests. The store enforces the same limit atomically when creating (two submits at the
 * limit cannot both pass); this check gives the usual case a refusal that says what to do.
 */
export async function openRequestLimit(
  ctx: RequestContext,
  requesterId: string,
): Promise<Refusal | undefined> {
  const limit = await ctx.store.openRequestLimit(requesterId);
  if (!limit) return undefined;
  const list = limit.open.map((r) => `${r.id} (${describeState(r.state)})`).join(', ');
  return refusal(
    'open-request-limit',
    `you already have ${limit.open.length} open requests and the limit is ${limit.max} per person (${list}); cancel one that is still waiting with /aws-access cancel <id>, or end a grant you no longer need with /aws-access revoke <id>, then ask again`,
  );
}
