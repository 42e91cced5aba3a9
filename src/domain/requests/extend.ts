/**
 * Lengthening an active grant: the limits an extension is under (one function for the allowance
 * offered on the warning and the check on an ask or an approval), asking, and applying it.
 */
import { formatDuration } from '../duration.js';
import { describeState, type AccessRequest } from '../access-request.js';
import { maxDurationFor, refusal, type ApprovalRule, type Refusal } from '../approval-policy.js';
import type { ExtensionAllowance, RequestPatch } from '../request-ports.js';
import {
  errorText,
  lostRace,
  record,
  refuseMissing,
  refuseNotYours,
  refuseWith,
  ruleNamed,
  safely,
  transitionEvent,
  type RequestContext,
} from './context.js';
import { whyIneligible } from './read.js';
import { GrantOperationError, type ActionResult } from './types.js';

/** How far an active grant may still be extended, as the config says now. */
interface ExtensionLimits {
  rule: ApprovalRule;
  /** Longest single extension: the rule's and template's maximum duration. */
  maxOnce: number;
  /** Longest the grant may last in total, extensions included. */
  maxTotal: number;
  /** Seconds the grant may still grow by before it reaches `maxTotal` (≤ 0 when none). */
  remaining: number;
}

/**
 * The one authority on extension limits, for both the allowance offered on the expiry warning
 * and the check on an ask or an approval: the template's (else the global) maximum number of
 * extensions and maximum total duration, and the rule's maximum per grant. A refusal when no
 * extension of any length is possible.
 */
function extensionLimits(ctx: RequestContext, request: AccessRequest): ExtensionLimits | Refusal {
  if (request.state !== 'active' || request.expiresAt === undefined || request.startsAt === undefined) {
    return refusal(
      'wrong-state',
      `request ${request.id} is ${describeState(request.state)}, not an active grant`,
    );
  }
  const rule = ruleNamed(ctx, request.ruleName);
  const template = ctx.templates.get(request.templateName);
  if (!rule || !template) return refusal('no-rule', 'the rule or template of this grant no longer exists');
  const { limits } = ctx.settings;
  const maxExtensions = template.maxExtensions ?? limits.maxExtensions;
  if (request.extensions >= maxExtensions) {
    return refusal(
      'extension-limit',
      `this grant has already been extended ${request.extensions} times (the limit)`,
    );
  }
  const maxTotal = template.maxTotalSeconds ?? limits.maxTotal;
  return {
    rule,
    maxOnce: maxDurationFor(rule, template, limits),
    maxTotal,
    remaining: maxTotal - (request.expiresAt - request.startsAt) / 1000,
  };
}

/** What extension the requester could still ask for (see `extensionLimits`). */
export function extensionAllowance(ctx: RequestContext, request: AccessRequest): ExtensionAllowance {
  const none = (reason: string): ExtensionAllowance => ({ maxSeconds: 0, needsApproval: false, reason });
  const limits = extensionLimits(ctx, request);
  if ('code' in limits) return none(limits.message);
  const left = Math.floor(limits.remaining);
  if (left < ctx.settings.limits.min) {
    return none(`a grant may last at most ${formatDuration(limits.maxTotal)} in total`);
  }
  return {
    maxSeconds: Math.min(limits.maxOnce, left),
    needsApproval: !limits.rule.extensions.autoApprove,
  };
}

/**
 * What the Extend button (App Home, the expiry warning) may offer this person: the same
 * not-yours / not-found rule as `extendGrant`, audited when refused; the offer itself changes
 * nothing.
 */
export async function extensionOffer(
  ctx: RequestContext,
  requestId: string,
  actorId: string,
): Promise<
  { ok: true; request: AccessRequest; allowance: ExtensionAllowance } | { ok: false; refusal: Refusal }
> {
  const request = await ctx.store.get(requestId);
  if (!request)
    return refuseMissing(ctx, actorId, 'extend', requestId) as Promise<{ ok: false; refusal: Refusal }>;
  if (request.requesterId !== actorId) {
    return refuseNotYours(
      ctx,
      actorId,
      'extend',
      request,
      'only the requester can extend a grant',
    ) as Promise<{
      ok: false;
      refusal: Refusal;
    }>;
  }
  return { ok: true, request, allowance: extensionAllowance(ctx, request) };
}

/** Why `seconds` more cannot be granted now (see `extensionLimits`), or undefined. */
export function checkExtension(
  ctx: RequestContext,
  request: AccessRequest,
  seconds: number,
): Refusal | undefined {
  const limits = extensionLimits(ctx, request);
  if ('code' in limits && limits.code === 'wrong-state') return limits;
  // An active grant whose end has passed is refused as ended, whatever else is wrong with it.
  if (request.expiresAt! <= ctx.clock.now()) return grantEnded(request.id, request.expiresAt);
  if ('code' in limits) return limits;
  const { min } = ctx.settings.limits;
  if (!Number.isFinite(seconds) || seconds < min) {
    return refusal('duration-too-short', `an extension must add at least ${formatDuration(min)}`);
  }
  if (seconds > limits.maxOnce) {
    return refusal('extension-limit', `one extension may add at most ${formatDuration(limits.maxOnce)}`);
  }
  if (seconds > limits.remaining) {
    const left = Math.max(0, Math.floor(limits.remaining));
    return refusal(
      'extension-limit',
      `a grant of ${request.templateName} may last at most ${formatDuration(limits.maxTotal)} in total; this one can grow by ${
        left > 0 ? `at most ${formatDuration(left)}` : 'nothing more'
      }`,
    );
  }
  return undefined;
}

/** A grant whose end has passed (its revoke job may be late) is never lengthened. */
export function grantEnded(requestId: string, expiresAt: number | undefined): Refusal {
  const at = expiresAt === undefined ? '' : ` at ${new Date(expiresAt).toISOString()}`;
  return refusal(
    'grant-ended',
    `the grant of request ${requestId} ended${at} and can no longer be extended; nothing was changed (ask for new access with /aws-access)`,
  );
}

/**
 * Lengthens an active grant by `seconds`, within the template's and global limits. Under a
 * rule without `extensions.autoApprove` the extension is put to the rule's approvers (the same
 * N of M and click-time checks as a request) and applied when approved.
 */
export async function extendGrant(
  ctx: RequestContext,
  requestId: string,
  actorId: string,
  seconds: number,
): Promise<ActionResult> {
  const request = await ctx.store.get(requestId);
  if (!request) return refuseMissing(ctx, actorId, 'extend', requestId);
  const refuse = (r: Refusal) => refuseWith(ctx, actorId, 'extend', request, r);
  if (request.requesterId !== actorId) {
    return refuseNotYours(ctx, actorId, 'extend', request, 'only the requester can extend a grant');
  }
  const problem = checkExtension(ctx, request, seconds);
  if (problem) return refuse(problem);
  // Someone who lost the right to ask (left the requester groups, became a guest, was
  // deactivated) keeps what was granted until it ends, but gets no more of it.
  const ineligible = await whyIneligible(ctx, actorId);
  if (ineligible) return refuse(ineligible);
  const rule = ruleNamed(ctx, request.ruleName)!;
  if (rule.extensions.autoApprove) return applyExtension(ctx, request, actorId, seconds);
  if (request.pendingExtension) {
    return refuse(
      refusal(
        'extension-needs-approval',
        `an extension by ${formatDuration(request.pendingExtension.seconds)} is already waiting for approval`,
      ),
    );
  }
  const now = ctx.clock.now();
  const asked = await ctx.store.annotate(requestId, {
    states: ['active'],
    expectedVersion: request.version,
    notExpiredAt: now,
    patch: {
      pendingExtension: { seconds, requestedAt: now, approvals: [] },
    },
  });
  if (!asked.ok && asked.reason === 'expired') return refuse(grantEnded(requestId, asked.expiresAt));
  if (!asked.ok) return lostRace(ctx, actorId, 'extend', request, asked);
  await record(
    ctx,
    transitionEvent(actorId, 'extension-request', asked, undefined, 'ok', {
      by: formatDuration(seconds),
    }),
  );
  const ref = await safely(ctx, 'extension approval message', () =>
    ctx.notifier.extensionRequested(asked.request, rule),
  );
  if (ref) await patchPendingExtension(ctx, requestId, { message: ref });
  return {
    ok: true,
    request: asked.request,
    message: `Extension of request ${requestId} by ${formatDuration(seconds)} sent to the approvers of rule ${rule.name} (${rule.approvalsRequired} approval${rule.approvalsRequired > 1 ? 's' : ''} needed). Your access still ends ${new Date(request.expiresAt!).toISOString()} unless it is approved.`,
  };
}

/** Store first (compare-and-set on the version), then IAM, then both jobs move. */
export async function applyExtension(
  ctx: RequestContext,
  request: AccessRequest,
  actorId: string,
  seconds: number,
  extraPatch: RequestPatch = {},
): Promise<ActionResult> {
  const requestId = request.id;
  const { limits } = ctx.settings;
  const newExpiry = request.expiresAt! + seconds * 1000;
  // If IAM fails the stored end is later than IAM's, so access still ends early rather than
  // late, and we roll the store back.
  const moved = await ctx.store.annotate(requestId, {
    states: ['active'],
    expectedVersion: request.version,
    notExpiredAt: ctx.clock.now(),
    patch: { ...extraPatch, expiresAt: newExpiry, extensions: request.extensions + 1 },
  });
  if (!moved.ok && moved.reason === 'expired') {
    return refuseWith(ctx, actorId, 'extend', request, grantEnded(requestId, moved.expiresAt));
  }
  if (!moved.ok) return lostRace(ctx, actorId, 'extend', request, moved);
  try {
    await ctx.grants.extend(request.accountId, requestId, new Date(newExpiry));
  } catch (error) {
    await ctx.store.annotate(requestId, {
      states: ['active'],
      expectedVersion: moved.request.version,
      patch: { expiresAt: request.expiresAt, extensions: request.extensions },
    });
    await record(ctx, transitionEvent(actorId, 'extend', moved, errorText(error), 'failed'));
    throw new GrantOperationError(`extending ${requestId} failed: ${errorText(error)}`, requestId, {
      cause: error,
    });
  }
  await ctx.scheduler.scheduleGrantEnd(requestId, {
    revokeAt: newExpiry,
    warnAt: newExpiry - limits.expiryWarning * 1000,
  });
  await record(
    ctx,
    transitionEvent(actorId, 'extend', moved, undefined, 'ok', {
      by: formatDuration(seconds),
      expiresAt: new Date(newExpiry).toISOString(),
    }),
  );
  await safely(ctx, 'message update', () =>
    ctx.notifier.requestChanged(moved.request, `extended by ${formatDuration(seconds)}`),
  );
  return {
    ok: true,
    request: moved.request,
    message: `Extended request ${requestId} by ${formatDuration(seconds)}; it now ends ${new Date(newExpiry).toISOString()}.`,
    changed: true,
  };
}

/** Sets fields of the pending extension without a version check (e.g. where its message is). */
export async function patchPendingExtension(
  ctx: RequestContext,
  requestId: string,
  fields: Partial<NonNullable<AccessRequest['pendingExtension']>>,
): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await ctx.store.get(requestId);
    if (!current?.pendingExtension || current.state !== 'active') return;
    const moved = await ctx.store.annotate(requestId, {
      states: ['active'],
      expectedVersion: current.version,
      patch: { pendingExtension: { ...current.pendingExtension, ...fields } },
    });
    if (moved.ok || moved.reason !== 'version') return;
  }
}
