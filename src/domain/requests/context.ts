/**
 * What every use case of the request lifecycle is given: the deps (store, audit log, grant
 * engine, people, scheduler, notifier, signer, clock, settings), and the helpers they share:
 * auditing (record, recordStrictly), refusing (refuseWith, refuseMissing, refuseNotYours,
 * lostRace), best-effort side effects (safely), and who someone is (membersOf, isAdmin,
 * isInvolved, identitiesOf). Use cases are free functions of this context, not methods of a class.
 */
import {
  checkEligibility,
  checkPerson,
  isApprover,
  refusal,
  type ApprovalRule,
  type DecisionCheck,
  type Person,
  type Refusal,
} from '../approval-policy.js';
import type { AccessRequest, RequestState } from '../access-request.js';
import type { AuditEvent } from '../audit-event.js';
import { personKeys, principalKey } from '../identity.js';
import type { TransitionOutcome } from '../request-ports.js';
import type { ActionResult, RequestServiceDeps } from './types.js';

/** The deps are the context: each use case takes what it needs from them. */
export type RequestContext = Readonly<RequestServiceDeps>;

/** An error as a request's `failure` and an audit reason: code or name, message, ≤ 500 characters. */
export function errorText(error: unknown): string {
  const e = error as { code?: unknown; name?: string; message?: string };
  const code = typeof e?.code === 'string' ? `${e.code}: ` : e?.name ? `${e.name}: ` : '';
  return `${code}${e?.message ?? String(error)}`.slice(0, 500);
}

/**
 * The name of a request's role: as recorded on the request when it has one, else as the grant
 * engine names it. The domain never spells the name itself.
 */
export function roleNameOf(ctx: RequestContext, requestId: string, recorded?: string): string {
  return recorded ?? ctx.grants.roleName?.(requestId) ?? `the role of request ${requestId}`;
}

/** The one look-up of a rule by name: the facade's `rule()` and every use case go through it. */
export function ruleNamed(ctx: Pick<RequestContext, 'settings'>, name: string): ApprovalRule | undefined {
  return ctx.settings.rules.find((r) => r.name === name);
}

/** Identity keys of the clicker, the requester and the approvers so far (see `personKeys`). */
export async function identitiesOf(
  ctx: RequestContext,
  request: AccessRequest,
  clickerId: string,
  clicker: Person | undefined,
  approverIds: readonly string[],
): Promise<NonNullable<DecisionCheck['identities']>> {
  const settings = ctx.settings.identities;
  const requester = personKeys(settings, request.requesterId, request.requesterEmail);
  requester.add(principalKey(request.principalArn, request.principalSessionName));
  const approvers = await Promise.all(
    approverIds
      .filter((id) => id !== clickerId)
      .map(async (id) => ({ id, keys: await personKeysOf(ctx, id) })),
  );
  return { clicker: personKeys(settings, clickerId, clicker?.email), requester, approvers };
}

export async function personKeysOf(ctx: RequestContext, userId: string): Promise<Set<string>> {
  const person = await ctx.people.person(userId).catch(() => undefined);
  return personKeys(ctx.settings.identities, userId, person?.email);
}

/** `memberships`: the person's groups among (at least) `slack.requesterGroups`. */
export function ineligibility(
  ctx: RequestContext,
  person: Person | undefined,
  memberships: ReadonlySet<string>,
): Refusal | undefined {
  return checkPerson(person) ?? checkEligibility(ctx.settings.requesterGroups, memberships);
}

export async function isAdmin(ctx: RequestContext, userId: string): Promise<boolean> {
  const members = await membersOf(ctx, ctx.settings.adminGroups);
  return [...members.values()].some((m) => m.includes(userId));
}

/** `strict`: a failed look-up throws instead of counting as an empty group. */
export async function membersOf(
  ctx: RequestContext,
  groups: readonly string[],
  strict = false,
): Promise<Map<string, string[]>> {
  const entries = await Promise.all(
    groups.map(async (g) => {
      const members = ctx.people.groupMembers(g);
      return [g, await (strict ? members : members.catch(() => []))] as const;
    }),
  );
  return new Map(entries);
}

export async function membershipsOf(
  ctx: RequestContext,
  userId: string,
  groups: readonly string[],
  strict = false,
): Promise<Set<string>> {
  const members = await membersOf(ctx, groups, strict);
  return new Set([...members].filter(([, users]) => users.includes(userId)).map(([g]) => g));
}

export function transitionEvent(
  actor: string,
  action: string,
  moved: Extract<TransitionOutcome, { ok: true }>,
  reason?: string,
  outcome: AuditEvent['outcome'] = 'ok',
  details?: AuditEvent['details'],
): Omit<AuditEvent, 'at'> {
  return {
    actor,
    action,
    outcome,
    requestId: moved.request.id,
    stateBefore: moved.previous,
    stateAfter: moved.request.state,
    ...(reason ? { reason } : {}),
    ...(details ? { details } : {}),
  };
}

/** The requester, anyone who decided it, an approver of its rule now, or an admin. */
export async function isInvolved(
  ctx: RequestContext,
  request: AccessRequest,
  userId: string,
): Promise<boolean> {
  const rule = ruleNamed(ctx, request.ruleName);
  return (
    request.requesterId === userId ||
    request.approvals.some((a) => a.approverId === userId) ||
    (rule !== undefined && isApprover(rule, userId, await membersOf(ctx, rule.approvers.groups))) ||
    (await isAdmin(ctx, userId))
  );
}

/**
 * A refusal for someone acting on a request that is not theirs. People with no part in it are
 * told it does not exist, as `status` does, so request ids reveal nothing about other people's
 * access; the attempt is audited either way. `involved` saves the look-ups when the caller
 * already knows.
 */
export async function refuseNotYours(
  ctx: RequestContext,
  actorId: string,
  action: string,
  request: AccessRequest,
  message: string,
  involved?: boolean,
): Promise<ActionResult> {
  const r =
    (involved ?? (await isInvolved(ctx, request, actorId)))
      ? refusal('not-yours', message)
      : refusal('not-found', `request ${request.id} does not exist`);
  return refuseWith(ctx, actorId, action, request, r);
}

export async function refuseMissing(
  ctx: RequestContext,
  actorId: string,
  action: string,
  requestId: string,
): Promise<ActionResult> {
  const r = refusal('not-found', `request ${requestId} does not exist`);
  await record(ctx, { actor: actorId, action, outcome: 'refused', requestId, reason: r.message });
  return { ok: false, refusal: r };
}

export async function refuseWith(
  ctx: RequestContext,
  actorId: string,
  action: string,
  request: AccessRequest,
  r: Refusal,
): Promise<ActionResult> {
  await refused(ctx, actorId, action, request, r);
  return { ok: false, refusal: r };
}

export async function lostRace(
  ctx: RequestContext,
  actorId: string,
  action: string,
  request: AccessRequest,
  moved: Exclude<TransitionOutcome, { ok: true }>,
): Promise<ActionResult> {
  const state: RequestState = moved.reason === 'missing' ? request.state : moved.state;
  const r =
    moved.reason === 'version'
      ? refusal('wrong-state', `request ${request.id} changed meanwhile; nothing was changed, try again`)
      : refusal('not-pending', `request ${request.id} is already ${state}; nothing was changed`);
  return refuseWith(ctx, actorId, action, { ...request, state }, r);
}

export async function refused(
  ctx: RequestContext,
  actorId: string,
  action: string,
  request: AccessRequest,
  r: Refusal,
): Promise<void> {
  await record(ctx, {
    actor: actorId,
    action,
    outcome: 'refused',
    requestId: request.id,
    stateBefore: request.state,
    stateAfter: request.state,
    reason: r.message,
    details: { code: r.code },
  });
}

/** Best effort: an audit failure is reported to onError and the flow goes on. */
export async function record(ctx: RequestContext, event: Omit<AuditEvent, 'at'>): Promise<void> {
  await recordStrictly(ctx, event);
}

/**
 * Fail closed: for the events that create access (an approval, a grant) the caller must know
 * whether the event was written, because an action the audit log could not take must not
 * stand. Returns false (after reporting the error to onError) when the append failed.
 */
export async function recordStrictly(ctx: RequestContext, event: Omit<AuditEvent, 'at'>): Promise<boolean> {
  try {
    await ctx.audit.record({ at: new Date(ctx.clock.now()).toISOString(), ...event });
    return true;
  } catch (error) {
    ctx.onError(error, 'audit');
    return false;
  }
}

export async function safely<T>(
  ctx: RequestContext,
  what: string,
  run: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    ctx.onError(error, what);
    return undefined;
  }
}
