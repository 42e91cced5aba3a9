/**
 * Granting an approved request: re-derived from the config at grant time, granted through the
 * grant engine, audited before it stands; or failed (refused, AWS error, not audited), or left
 * revoke-failed when a failed grant's role could not be removed.
 */
import type { AccessRequest } from '../access-request.js';
import { checkEligibility, groupsReferencedByRules, type Refusal } from '../approval-policy.js';
import { checkGrantable } from '../grant-check.js';
import { confirmedEmail, personKeys, resolveIdentity } from '../identity.js';
import { approvalContent, requestContent } from '../request-integrity.js';
import type { Delivery } from '../ports.js';
import { GrantRollbackError } from '../../errors.js';
import {
  errorText,
  membersOf,
  membershipsOf,
  record,
  recordStrictly,
  ruleNamed,
  safely,
  transitionEvent,
  type RequestContext,
} from './context.js';
import { onCallFacts } from './on-call-lookups.js';
import { groupGate } from './group-gate.js';
import { SYSTEM_ACTOR } from './types.js';

export interface ProvisionOptions {
  /**
   * Reconcile's repair of a request stuck in `approved`: act only when nobody approved or claimed
   * it after this time (ms). Its list of stuck requests may be older than another run's claim.
   */
  staleBefore?: number;
  /**
   * Takes the grant's delivery instead of DMing it: a multi-account request sends one DM listing
   * every grant (requests/group.ts). Kept in memory only: a delivery may hold credentials.
   */
  deliver?: (request: AccessRequest, delivery: Delivery) => void;
}

/**
 * approved → active (grant, schedule the end, deliver by DM) or → failed (alert).
 *
 * One provisioner at a time: the caller first claims the request (compare-and-set on its version,
 * which also sets `updatedAt`), and reconcile's repair leaves a request claimed within the
 * provisioning timeout alone. Two provisioners of one request would share its one role name: the
 * second takes the first's live role over (remove and create again), writes a second `grant`
 * event, and its "the request changed meanwhile" clean-up deletes the role the active grant
 * needs (found by the chaos run, #13: two overlapping reconcile runs after a worker SIGKILL).
 */
export async function provision(
  ctx: RequestContext,
  requestId: string,
  options: ProvisionOptions = {},
): Promise<AccessRequest | undefined> {
  const current = await ctx.store.get(requestId);
  if (!current || current.state !== 'approved') return current;
  if (options.staleBefore !== undefined && current.updatedAt > options.staleBefore) return current;
  // An account of a multi-account request waits for the rest of it (group-gate.ts).
  const gate = await groupGate(ctx, current);
  if (gate === 'wait') return current;
  if (gate !== 'go') return refuseGrant(ctx, current, gate);
  const claim = await ctx.store.annotate(requestId, {
    states: ['approved'],
    expectedVersion: current.version,
    patch: {},
  });
  // Someone else claimed it, or it moved on: theirs to finish.
  if (!claim.ok) return ctx.store.get(requestId);
  const request = claim.request;
  const refused = await grantableNow(ctx, request);
  if (refused) return refuseGrant(ctx, request, refused);
  const startsAt = ctx.clock.now();
  const expiresAt = startsAt + request.durationSeconds * 1000;
  let result;
  try {
    result = await ctx.grants.grant({
      requestId,
      accountId: request.accountId,
      templateName: request.templateName,
      requester: {
        slackUserId: request.requesterId,
        principalArn: request.principalArn,
        ...(request.principalSessionName ? { principalSessionName: request.principalSessionName } : {}),
        displayName: request.requesterName,
      },
      ...(request.requesterEmail ? { requesterEmail: request.requesterEmail } : {}),
      startsAt: new Date(startsAt),
      expiresAt: new Date(expiresAt),
      region: ctx.settings.region,
    });
  } catch (error) {
    if (error instanceof GrantRollbackError) return grantLeftRole(ctx, requestId, error, startsAt, expiresAt);
    return failGrant(ctx, requestId, { failure: errorText(error) });
  }
  // The grant is written to the audit log before the request becomes active: a grant the log
  // cannot take does not stand (unrecordedGrant removes the role and fails the request).
  const details = { roleArn: result.roleArn, expiresAt: new Date(expiresAt).toISOString() };
  const recorded = await recordStrictly(ctx, {
    actor: SYSTEM_ACTOR,
    action: 'grant',
    outcome: 'ok',
    requestId,
    stateBefore: 'approved',
    stateAfter: 'active',
    details,
  });
  if (!recorded) return unrecordedGrant(ctx, request);
  const moved = await ctx.store.transition(requestId, {
    from: ['approved'],
    to: 'active',
    patch: { startsAt, expiresAt, roleArn: result.roleArn, roleName: result.roleName },
  });
  if (!moved.ok) {
    // Someone else finished this request meanwhile; never leave a role nobody tracks.
    await ctx.grants.revoke(request.accountId, requestId).catch((e: unknown) => ctx.onError(e, 'revoke'));
    await record(ctx, {
      actor: SYSTEM_ACTOR,
      action: 'grant',
      outcome: 'failed',
      requestId,
      stateBefore: 'approved',
      stateAfter: moved.reason === 'missing' ? 'approved' : moved.state,
      reason: 'the request changed meanwhile; the role was removed again',
      details,
    });
    return ctx.store.get(requestId);
  }
  await ctx.scheduler.scheduleGrantEnd(requestId, {
    revokeAt: expiresAt,
    warnAt: expiresAt - ctx.settings.limits.expiryWarning * 1000,
  });
  if (options.deliver) options.deliver(moved.request, result.delivery);
  else await safely(ctx, 'delivery DM', () => ctx.notifier.delivered(moved.request, result.delivery));
  await safely(ctx, 'message update', () => ctx.notifier.requestChanged(moved.request, 'access granted'));
  return moved.request;
}

/**
 * Nothing is granted that the config does not allow at grant time: the record's signature,
 * the account, template, rule, duration, principal and approvals, all derived again from the
 * config and the people as they are now. Look-up failures (Slack down) propagate, so the
 * request stays `approved` and reconcile tries again, rather than failing on missing facts.
 */
export async function grantableNow(
  ctx: RequestContext,
  request: AccessRequest,
): Promise<Refusal | undefined> {
  const { settings } = ctx;
  const rule = ruleNamed(ctx, request.ruleName);
  const approverIds = request.approvals.map((a) => a.approverId);
  const [account, requester, memberships, proofs, groupMembers, approvers, found] = await Promise.all([
    ctx.accounts.findAccount(request.accountId),
    ctx.people.person(request.requesterId),
    membershipsOf(
      ctx,
      request.requesterId,
      [...new Set([...settings.requesterGroups, ...groupsReferencedByRules(settings.rules)])],
      true,
    ),
    ctx.store.approvalProofs(request.id),
    membersOf(ctx, rule?.approvers.groups ?? [], true),
    Promise.all(approverIds.map((id) => ctx.people.person(id))),
    ctx.grants.identify?.(request.accountId, request.templateName, {
      slackUserId: request.requesterId,
      ...(request.requesterEmail ? { email: request.requesterEmail } : {}),
    }),
  ]);
  const template = ctx.templates.get(request.templateName);
  const onCall = await onCallFacts(ctx, request, rule, template, requester, approvers, groupMembers);
  return checkGrantable({
    request,
    signatureValid: ctx.signer.verify(requestContent(request), request.signature),
    rules: settings.rules,
    limits: settings.limits,
    accountRefs: settings.accountRefs,
    account,
    template,
    requester,
    requesterGroups: memberships,
    ineligible: checkEligibility(settings.requesterGroups, memberships),
    identity:
      found === undefined
        ? resolveIdentity(settings.identities, request.requesterId, confirmedEmail(requester))
        : 'principalArn' in found
          ? { principalArn: found.principalArn }
          : undefined,
    requesterKeys: new Set([
      ...personKeys(settings.identities, request.requesterId, requester?.email),
      ...personKeys(settings.identities, request.requesterId, request.requesterEmail),
    ]),
    approvals: approverIds.map((approverId, i) => ({
      approverId,
      person: approvers[i],
      keys: personKeys(settings.identities, approverId, approvers[i]?.email),
      proofValid: ctx.signer.verify(approvalContent(request.id, approverId), proofs[approverId]),
      onCall: onCall.approvers[i] ?? false,
    })),
    groupMembers,
    requesterOnCall: onCall.requester,
  });
}

/** approved → failed without touching AWS: the config does not allow this grant now. */
export function refuseGrant(
  ctx: RequestContext,
  request: AccessRequest,
  why: Refusal,
): Promise<AccessRequest | undefined> {
  return failGrant(ctx, request.id, {
    failure: why.message,
    refused: why,
    note: 'not granted',
    toRequester: `Request ${request.id} was not granted: ${why.message}. Nothing was granted.`,
    alert: `Request ${request.id} was refused at grant time: ${why.message}`,
  });
}

/**
 * approved → failed, audited, with the message, the requester and security told. The one way
 * a grant ends without access: refused at grant time, failed in AWS, or not audited.
 */
export async function failGrant(
  ctx: RequestContext,
  requestId: string,
  how: { failure: string; refused?: Refusal; note?: string; toRequester?: string; alert?: string },
): Promise<AccessRequest | undefined> {
  const { failure, refused } = how;
  const moved = await ctx.store.transition(requestId, {
    from: ['approved'],
    to: 'failed',
    patch: { failure },
  });
  if (!moved.ok) return ctx.store.get(requestId);
  await record(ctx, {
    ...transitionEvent(SYSTEM_ACTOR, 'grant', moved, failure, refused ? 'refused' : 'failed'),
    ...(refused ? { details: { code: refused.code } } : {}),
  });
  await safely(ctx, 'message update', () =>
    ctx.notifier.requestChanged(moved.request, how.note ?? 'granting failed'),
  );
  await safely(ctx, 'requester DM', () =>
    ctx.notifier.toRequester(
      moved.request,
      how.toRequester ??
        `Granting request ${requestId} failed; the security team has been alerted. Nothing was granted.`,
    ),
  );
  await safely(ctx, 'security alert', () =>
    ctx.notifier.alertSecurity(
      how.alert ?? `Granting request ${requestId} failed: ${failure}`,
      moved.request,
    ),
  );
  return moved.request;
}

/**
 * A grant failed and its role could not be removed (GrantRollbackError): approved →
 * revoke-failed with the role recorded, security alerted, the requester told the truth.
 * Reconcile retries revoke-failed requests until the role is gone.
 */
export async function grantLeftRole(
  ctx: RequestContext,
  requestId: string,
  error: GrantRollbackError,
  startsAt: number,
  expiresAt: number,
): Promise<AccessRequest | undefined> {
  const failure = errorText(error);
  const moved = await ctx.store.transition(requestId, {
    from: ['approved'],
    to: 'revoke-failed',
    patch: { failure, roleArn: error.roleArn, roleName: error.roleName, startsAt, expiresAt },
  });
  if (!moved.ok) return ctx.store.get(requestId);
  await record(
    ctx,
    transitionEvent(SYSTEM_ACTOR, 'grant', moved, failure, 'failed', { roleArn: error.roleArn }),
  );
  await safely(ctx, 'security alert', () =>
    ctx.notifier.alertSecurity(
      `Granting request ${requestId} failed and its role ${error.roleName} in ${error.accountId} could not be removed: ${failure}. Reconcile keeps trying to remove it.`,
      moved.request,
    ),
  );
  await safely(ctx, 'message update', () =>
    ctx.notifier.requestChanged(moved.request, 'granting failed; removing its role'),
  );
  await safely(ctx, 'requester DM', () =>
    ctx.notifier.toRequester(
      moved.request,
      `Granting request ${requestId} failed; the security team has been alerted. A role was partly created and could not be removed yet: do not use it; the bot keeps removing it.`,
    ),
  );
  return moved.request;
}

/**
 * A grant whose `grant` event the audit log could not take is taken back: the role is removed
 * through the grant engine and the request (still `approved`) ends `failed`. The requester is
 * told granting failed, never that access was granted; security is alerted, and told so when
 * removing the role failed too (reconcile removes roles no active request owns).
 */
export async function unrecordedGrant(
  ctx: RequestContext,
  request: AccessRequest,
): Promise<AccessRequest | undefined> {
  const id = request.id;
  let removed = true;
  await ctx.grants.revoke(request.accountId, id).catch((e: unknown) => {
    removed = false;
    ctx.onError(e, 'revoke');
  });
  return failGrant(ctx, id, {
    failure: `the grant could not be written to the audit log; ${
      removed ? 'the role was removed again' : 'removing the role failed too'
    }`,
    toRequester: `Granting request ${id} failed; the security team has been alerted. ${
      removed ? 'Nothing was granted.' : 'The role is being removed; do not use it.'
    }`,
  });
}
