/**
 * The request lifecycle as one service: Slack listeners and BullMQ jobs call these methods and
 * present the result; nothing else changes a request. Every change goes through the store's
 * atomic transition and leaves an audit event; every refusal is audited too.
 */
import { formatDuration } from './duration.js';
import { describeState, OPEN_STATES, type AccessRequest, type RequestState } from './access-request.js';
import {
  checkDecision,
  checkDraft,
  checkEligibility,
  checkPerson,
  checkTemplateAllowed,
  findRule,
  grantPathFor,
  groupsReferencedByRules,
  isApprover,
  maxDurationFor,
  noRuleRefusal,
  refusal,
  type AccountRef,
  type ApprovalRule,
  type GrantPath,
  type DurationLimits,
  type Person,
  type Refusal,
} from './approval-policy.js';
import type { AuditEvent, AuditLog } from './audit-event.js';
import { alreadyReviewed, checkReviewer } from './break-glass-review.js';
import { personKeys, principalKey, resolveIdentity, type IdentitySettings } from './identity.js';
import { checkGrantable } from './grant-check.js';
import { approvalContent, requestContent } from './request-integrity.js';
import type {
  Account,
  AccountDirectory,
  Clock,
  GrantEngine,
  TemplateCatalog,
  TemplateInfo,
} from './ports.js';
import type {
  ExtensionAllowance,
  PeopleDirectory,
  RequestNotifier,
  RecordSigner,
  RequestPatch,
  RequestScheduler,
  RequestStore,
  TransitionOutcome,
} from './request-ports.js';
// Grant rollback and reconcile's role reports (provision() and the reconcile helpers).
import { GrantRollbackError } from '../errors.js';
import type { ManagedRole } from './ports.js';

export interface RequestSettings {
  rules: readonly ApprovalRule[];
  limits: DurationLimits & { expiryWarning: number };
  identities: IdentitySettings;
  /** When non-empty, only members may request. */
  requesterGroups: readonly string[];
  /** Members may revoke any grant. */
  adminGroups: readonly string[];
  region?: string;
  /** The configured accounts: what a template's `allowedAccounts` names resolve to (ids). */
  accountRefs?: readonly AccountRef[];
}

export interface RequestServiceDeps {
  store: RequestStore;
  audit: AuditLog;
  grants: GrantEngine;
  accounts: AccountDirectory;
  templates: TemplateCatalog;
  people: PeopleDirectory;
  scheduler: RequestScheduler;
  notifier: RequestNotifier;
  /** Signs request records and counted approvals; provisioning checks both. */
  signer: RecordSigner;
  clock: Clock;
  newId: () => string;
  settings: RequestSettings;
  /** Failures that must not stop the flow (a Slack post, an audit mirror) are reported here. */
  onError: (error: unknown, context: string) => void;
}

export interface RequestDraft {
  requesterId: string;
  account: string;
  template: string;
  durationSeconds: number;
  reason: string;
}

export interface PreparedRequest {
  requester: Person;
  principalArn: string;
  principalSessionName?: string;
  /** Approvers, the rule's auto-approval, or its break-glass allowance for this requester. */
  grantPath: GrantPath;
  account: Account;
  template: TemplateInfo;
  rule: ApprovalRule;
  durationSeconds: number;
  reason: string;
}

export type Prepared = { ok: true; prepared: PreparedRequest } | { ok: false; refusals: Refusal[] };
/** `changed: false` marks an idempotent repeat (e.g. a revoke job for a grant already revoked). */
export type ActionResult =
  { ok: true; request: AccessRequest; message: string; changed?: boolean } | { ok: false; refusal: Refusal };

/** The grant engine failed; the request has been moved to failed / revoke-failed as appropriate. */
export class GrantOperationError extends Error {
  constructor(
    message: string,
    readonly requestId: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GrantOperationError';
  }
}

export const SYSTEM_ACTOR = 'system';

function errorText(error: unknown): string {
  const e = error as { code?: unknown; name?: string; message?: string };
  const code = typeof e?.code === 'string' ? `${e.code}: ` : e?.name ? `${e.name}: ` : '';
  return `${code}${e?.message ?? String(error)}`.slice(0, 500);
}

export class RequestService {
  constructor(private readonly deps: RequestServiceDeps) {}

  get settings(): RequestSettings {
    return this.deps.settings;
  }

  rule(name: string): ApprovalRule | undefined {
    return this.deps.settings.rules.find((r) => r.name === name);
  }

  // ── asking ────────────────────────────────────────────────────────────────

  /** Checks a draft against the requester, the account, the template and the rule. */
  async prepare(draft: RequestDraft): Promise<Prepared> {
    const refuse = async (refusals: Refusal[]): Promise<Prepared> => {
      await this.record({
        actor: draft.requesterId,
        action: 'request',
        outcome: 'refused',
        reason: refusals.map((r) => r.message).join('; '),
        details: { account: draft.account.slice(0, 64), template: draft.template.slice(0, 64) },
      });
      return { ok: false, refusals };
    };
    const { settings } = this.deps;
    // One look-up of each group serves both the eligibility check and rule matching.
    const [requester, requesterGroups] = await Promise.all([
      this.deps.people.person(draft.requesterId),
      this.membershipsOf(draft.requesterId, [
        ...new Set([...settings.requesterGroups, ...groupsReferencedByRules(settings.rules)]),
      ]),
    ]);
    const ineligible = this.ineligibility(requester, requesterGroups);
    if (ineligible || !requester) return refuse([ineligible!]);
    const overLimit = await this.openRequestLimit(requester.id);
    if (overLimit) return refuse([overLimit]);

    const refusals: Refusal[] = [];
    const account = await this.deps.accounts.findAccount(draft.account);
    if (!account) {
      refusals.push(refusal('unknown-account', `no account called "${draft.account}"`, 'account'));
    }
    const template = this.deps.templates.get(draft.template);
    if (!template) {
      const names = this.deps.templates
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
    const grantPath = grantPathFor(rule, template, requesterGroups);
    if (typeof grantPath !== 'string') refusals.push(grantPath);
    const identity = resolveIdentity(settings.identities, requester.id, requester.email);
    if (!identity) {
      refusals.push(
        refusal(
          'no-identity',
          'your Slack account is not mapped to an AWS identity; ask your platform team to add you to the identity map',
        ),
      );
    }
    if (refusals.length || !identity || typeof grantPath !== 'string') return refuse(refusals);
    return {
      ok: true,
      prepared: {
        requester,
        principalArn: identity.principalArn,
        ...(identity.sessionName ? { principalSessionName: identity.sessionName } : {}),
        grantPath,
        account,
        template,
        rule,
        durationSeconds: draft.durationSeconds,
        reason: draft.reason.trim(),
      },
    };
  }

  /** Creates the request and routes it: to approvers, or straight to a grant (auto / break-glass). */
  async open(prepared: PreparedRequest): Promise<AccessRequest> {
    const now = this.deps.clock.now();
    const { rule, template, account, requester } = prepared;
    const draft: AccessRequest = {
      id: this.deps.newId(),
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
      approvalsRequired: rule.approvalsRequired,
      approvals: [],
      breakGlass: prepared.grantPath === 'break-glass',
      autoApproved: false,
      createdAt: now,
      updatedAt: now,
      pendingUntil: now + rule.ttl * 1000,
      extensions: 0,
    };
    draft.signature = this.deps.signer.sign(requestContent(draft));
    const request = await this.deps.store.create(draft);
    await this.record({
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
      const action = prepared.grantPath === 'break-glass' ? 'break-glass' : 'auto-approve';
      const moved = await this.deps.store.transition(request.id, {
        from: ['pending'],
        to: 'approved',
        patch: { autoApproved: true, decidedBy: SYSTEM_ACTOR, decidedAt: now },
      });
      if (!moved.ok) return (await this.deps.store.get(request.id)) ?? request;
      await this.record(this.transitionEvent(SYSTEM_ACTOR, action, moved, `rule ${rule.name}`));
      if (prepared.grantPath === 'break-glass') {
        const ref = await this.safely('break-glass alert', () =>
          this.deps.notifier.breakGlass(moved.request, rule),
        );
        if (ref) await this.deps.store.setMessage(request.id, ref);
      }
      return (await this.provision(request.id)) ?? moved.request;
    }

    const ref = await this.safely('approval message', () =>
      this.deps.notifier.approvalRequested(request, rule),
    );
    if (ref) await this.deps.store.setMessage(request.id, ref);
    await this.deps.scheduler.schedulePending(request.id, {
      remindAt: now + rule.reminderAfter * 1000,
      escalateAt: now + rule.escalateAfter * 1000,
      expireAt: request.pendingUntil,
    });
    const stored: AccessRequest = ref ? { ...request, message: ref } : request;
    await this.safely('requester DM', () =>
      this.deps.notifier.toRequester(
        stored,
        `Your request ${stored.id} for ${template.name} on ${account.name} (${formatDuration(
          stored.durationSeconds,
        )}) is waiting for ${rule.approvalsRequired} approval${rule.approvalsRequired > 1 ? 's' : ''} (rule ${rule.name}).`,
      ),
    );
    return stored;
  }

  async submit(
    draft: RequestDraft,
  ): Promise<{ ok: true; request: AccessRequest } | { ok: false; refusals: Refusal[] }> {
    const prepared = await this.prepare(draft);
    if (!prepared.ok) return prepared;
    return { ok: true, request: await this.open(prepared.prepared) };
  }

  /**
   * Why the requester may not open another request: they are at the configured limit of open
   * requests. The store enforces the same limit atomically when creating (two submits at the
   * limit cannot both pass); this check gives the usual case a refusal that says what to do.
   */
  private async openRequestLimit(requesterId: string): Promise<Refusal | undefined> {
    const limit = await this.deps.store.openRequestLimit(requesterId);
    if (!limit) return undefined;
    const list = limit.open.map((r) => `${r.id} (${describeState(r.state)})`).join(', ');
    return refusal(
      'open-request-limit',
      `you already have ${limit.open.length} open requests and the limit is ${limit.max} per person (${list}); cancel one that is still waiting with /aws-access cancel <id>, or end a grant you no longer need with /aws-access revoke <id>, then ask again`,
    );
  }

  // ── deciding ──────────────────────────────────────────────────────────────

  /** Whether `clickerId` may decide this request right now (used before opening the deny form too). */
  async checkDecider(requestId: string, clickerId: string, action: string): Promise<Refusal | AccessRequest> {
    const request = await this.deps.store.get(requestId);
    if (!request) {
      const r = refusal('not-found', `request ${requestId} does not exist`);
      await this.record({ actor: clickerId, action, outcome: 'refused', requestId, reason: r.message });
      return r;
    }
    const rule = this.rule(request.ruleName);
    const [clicker, groupMembers] = await Promise.all([
      this.deps.people.person(clickerId),
      this.membersOf(rule?.approvers.groups ?? []),
    ]);
    const identities = await this.identitiesOf(
      request,
      clickerId,
      clicker,
      request.approvals.map((a) => a.approverId),
    );
    const problem = checkDecision({ request, rule, clickerId, clicker, groupMembers, identities });
    if (problem) {
      await this.refused(clickerId, action, request, problem);
      return problem;
    }
    return request;
  }

  /** Identity keys of the clicker, the requester and the approvers so far (see `personKeys`). */
  private async identitiesOf(
    request: AccessRequest,
    clickerId: string,
    clicker: Person | undefined,
    approverIds: readonly string[],
  ): Promise<NonNullable<Parameters<typeof checkDecision>[0]['identities']>> {
    const settings = this.deps.settings.identities;
    const requester = personKeys(settings, request.requesterId, request.requesterEmail);
    requester.add(principalKey(request.principalArn, request.principalSessionName));
    const approvers = await Promise.all(
      approverIds
        .filter((id) => id !== clickerId)
        .map(async (id) => ({ id, keys: await this.personKeysOf(id) })),
    );
    return { clicker: personKeys(settings, clickerId, clicker?.email), requester, approvers };
  }

  private async personKeysOf(userId: string): Promise<Set<string>> {
    const person = await this.deps.people.person(userId).catch(() => undefined);
    return personKeys(this.deps.settings.identities, userId, person?.email);
  }

  async approve(requestId: string, clickerId: string): Promise<ActionResult> {
    const checked = await this.checkDecider(requestId, clickerId, 'approve');
    if (!('id' in checked)) return { ok: false, refusal: checked };
    // The bot's signed word that this click passed the checks, written before it is counted, so
    // provisioning (perhaps another click's, a moment later) can tell it from one put into Redis.
    await this.deps.store.setApprovalProof(
      requestId,
      clickerId,
      this.deps.signer.sign(approvalContent(requestId, clickerId)),
    );
    const outcome = await this.deps.store.approve(requestId, clickerId, this.deps.clock.now());
    if (outcome.result === 'missing')
      return { ok: false, refusal: refusal('not-found', `request ${requestId} does not exist`) };
    if (!('request' in outcome)) {
      const problem =
        outcome.result === 'expired'
          ? refusal(
              'request-expired',
              `request ${requestId} expired without a decision at ${new Date(outcome.pendingUntil).toISOString()}; nothing was changed (the requester can ask again with /aws-access)`,
            )
          : outcome.result === 'already'
            ? refusal('already-approved', `you have already approved request ${requestId}`)
            : outcome.result === 'self'
              ? refusal('self-approval', 'you cannot decide your own request')
              : refusal(
                  'not-pending',
                  `request ${requestId} is already ${outcome.state}; nothing was changed`,
                );
      await this.refused(clickerId, 'approve', checked, problem);
      return { ok: false, refusal: problem };
    }
    const { request, count } = outcome;
    const recorded = await this.recordStrictly({
      actor: clickerId,
      action: 'approve',
      outcome: 'ok',
      requestId,
      stateBefore: 'pending',
      stateAfter: request.state,
      details: { approvals: count, required: request.approvalsRequired },
    });
    if (!recorded) return this.unrecordedApproval(request, clickerId);
    if (outcome.result === 'counted') {
      await this.safely('message update', () =>
        this.deps.notifier.requestChanged(
          request,
          `<@${clickerId}> approved (${count} of ${request.approvalsRequired})`,
        ),
      );
      return { ok: true, request, message: `Approval counted: ${count} of ${request.approvalsRequired}.` };
    }
    await this.deps.scheduler.cancelPending(requestId);
    await this.safely('message update', () =>
      this.deps.notifier.requestChanged(request, `<@${clickerId}> approved`),
    );
    await this.safely('requester DM', () =>
      this.deps.notifier.toRequester(request, `Your request ${requestId} was approved. Granting access now…`),
    );
    const final = await this.provision(requestId);
    return { ok: true, request: final ?? request, message: `Approved request ${requestId}.` };
  }

  async deny(requestId: string, clickerId: string, reason: string): Promise<ActionResult> {
    const checked = await this.checkDecider(requestId, clickerId, 'deny');
    if (!('id' in checked)) return { ok: false, refusal: checked };
    const moved = await this.deps.store.transition(requestId, {
      from: ['pending'],
      to: 'denied',
      patch: { decidedBy: clickerId, decidedAt: this.deps.clock.now(), denyReason: reason },
    });
    if (!moved.ok) return this.lostRace(clickerId, 'deny', checked, moved);
    await this.record(this.transitionEvent(clickerId, 'deny', moved, reason));
    await this.deps.scheduler.cancelPending(requestId);
    await this.safely('message update', () =>
      this.deps.notifier.requestChanged(moved.request, `<@${clickerId}> denied`),
    );
    await this.safely('requester DM', () =>
      this.deps.notifier.toRequester(
        moved.request,
        `Your request ${requestId} was denied by <@${clickerId}>.`,
      ),
    );
    return { ok: true, request: moved.request, message: `Denied request ${requestId}.` };
  }

  async cancel(requestId: string, actorId: string): Promise<ActionResult> {
    const request = await this.deps.store.get(requestId);
    if (!request) return this.refuseMissing(actorId, 'cancel', requestId);
    if (request.requesterId !== actorId) {
      return this.refuseNotYours(actorId, 'cancel', request, 'only the requester can cancel a request');
    }
    const moved = await this.deps.store.transition(requestId, {
      from: ['pending'],
      to: 'cancelled',
      patch: { decidedBy: actorId, decidedAt: this.deps.clock.now() },
    });
    if (!moved.ok) return this.lostRace(actorId, 'cancel', request, moved);
    await this.record(this.transitionEvent(actorId, 'cancel', moved));
    await this.deps.scheduler.cancelPending(requestId);
    await this.safely('message update', () =>
      this.deps.notifier.requestChanged(moved.request, 'cancelled by the requester'),
    );
    return { ok: true, request: moved.request, message: `Cancelled request ${requestId}.` };
  }

  // ── granting ──────────────────────────────────────────────────────────────

  /** approved → active (grant, schedule the end, deliver by DM) or → failed (alert). */
  async provision(requestId: string): Promise<AccessRequest | undefined> {
    const request = await this.deps.store.get(requestId);
    if (!request || request.state !== 'approved') return request;
    const refused = await this.grantableNow(request);
    if (refused) return this.refuseGrant(request, refused);
    const startsAt = this.deps.clock.now();
    const expiresAt = startsAt + request.durationSeconds * 1000;
    let result;
    try {
      result = await this.deps.grants.grant({
        requestId,
        accountId: request.accountId,
        templateName: request.templateName,
        requester: {
          slackUserId: request.requesterId,
          principalArn: request.principalArn,
          ...(request.principalSessionName ? { principalSessionName: request.principalSessionName } : {}),
          displayName: request.requesterName,
        },
        startsAt: new Date(startsAt),
        expiresAt: new Date(expiresAt),
        region: this.deps.settings.region,
      });
    } catch (error) {
      if (error instanceof GrantRollbackError)
        return this.grantLeftRole(requestId, error, startsAt, expiresAt);
      return this.failGrant(requestId, { failure: errorText(error) });
    }
    // The grant is written to the audit log before the request becomes active: a grant the log
    // cannot take does not stand (unrecordedGrant removes the role and fails the request).
    const details = { roleArn: result.roleArn, expiresAt: new Date(expiresAt).toISOString() };
    const recorded = await this.recordStrictly({
      actor: SYSTEM_ACTOR,
      action: 'grant',
      outcome: 'ok',
      requestId,
      stateBefore: 'approved',
      stateAfter: 'active',
      details,
    });
    if (!recorded) return this.unrecordedGrant(request);
    const moved = await this.deps.store.transition(requestId, {
      from: ['approved'],
      to: 'active',
      patch: { startsAt, expiresAt, roleArn: result.roleArn, roleName: result.roleName },
    });
    if (!moved.ok) {
      // Someone else finished this request meanwhile; never leave a role nobody tracks.
      await this.deps.grants
        .revoke(request.accountId, requestId)
        .catch((e: unknown) => this.deps.onError(e, 'revoke'));
      await this.record({
        actor: SYSTEM_ACTOR,
        action: 'grant',
        outcome: 'failed',
        requestId,
        stateBefore: 'approved',
        stateAfter: moved.reason === 'missing' ? 'approved' : moved.state,
        reason: 'the request changed meanwhile; the role was removed again',
        details,
      });
      return this.deps.store.get(requestId);
    }
    await this.deps.scheduler.scheduleGrantEnd(requestId, {
      revokeAt: expiresAt,
      warnAt: expiresAt - this.deps.settings.limits.expiryWarning * 1000,
    });
    await this.safely('delivery DM', () => this.deps.notifier.delivered(moved.request, result.delivery));
    await this.safely('message update', () =>
      this.deps.notifier.requestChanged(moved.request, 'access granted'),
    );
    return moved.request;
  }

  /**
   * Nothing is granted that the config does not allow at grant time: the record's signature,
   * the account, template, rule, duration, principal and approvals, all derived again from the
   * config and the people as they are now. Look-up failures (Slack down) propagate, so the
   * request stays `approved` and reconcile tries again, rather than failing on missing facts.
   */
  private async grantableNow(request: AccessRequest): Promise<Refusal | undefined> {
    const { settings } = this.deps;
    const rule = this.rule(request.ruleName);
    const approverIds = request.approvals.map((a) => a.approverId);
    const [account, requester, memberships, proofs, groupMembers, approvers] = await Promise.all([
      this.deps.accounts.findAccount(request.accountId),
      this.deps.people.person(request.requesterId),
      this.membershipsOf(
        request.requesterId,
        [...new Set([...settings.requesterGroups, ...groupsReferencedByRules(settings.rules)])],
        true,
      ),
      this.deps.store.approvalProofs(request.id),
      this.membersOf(rule?.approvers.groups ?? [], true),
      Promise.all(approverIds.map((id) => this.deps.people.person(id))),
    ]);
    return checkGrantable({
      request,
      signatureValid: this.deps.signer.verify(requestContent(request), request.signature),
      rules: settings.rules,
      limits: settings.limits,
      accountRefs: settings.accountRefs,
      account,
      template: this.deps.templates.get(request.templateName),
      requester,
      requesterGroups: memberships,
      ineligible: checkEligibility(settings.requesterGroups, memberships),
      identity: resolveIdentity(settings.identities, request.requesterId, requester?.email),
      requesterKeys: new Set([
        ...personKeys(settings.identities, request.requesterId, requester?.email),
        ...personKeys(settings.identities, request.requesterId, request.requesterEmail),
      ]),
      approvals: approverIds.map((approverId, i) => ({
        approverId,
        person: approvers[i],
        keys: personKeys(settings.identities, approverId, approvers[i]?.email),
        proofValid: this.deps.signer.verify(approvalContent(request.id, approverId), proofs[approverId]),
      })),
      groupMembers,
    });
  }

  /** approved → failed without touching AWS: the config does not allow this grant now. */
  private refuseGrant(request: AccessRequest, why: Refusal): Promise<AccessRequest | undefined> {
    return this.failGrant(request.id, {
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
  private async failGrant(
    requestId: string,
    how: { failure: string; refused?: Refusal; note?: string; toRequester?: string; alert?: string },
  ): Promise<AccessRequest | undefined> {
    const { failure, refused } = how;
    const moved = await this.deps.store.transition(requestId, {
      from: ['approved'],
      to: 'failed',
      patch: { failure },
    });
    if (!moved.ok) return this.deps.store.get(requestId);
    await this.record({
      ...this.transitionEvent(SYSTEM_ACTOR, 'grant', moved, failure, refused ? 'refused' : 'failed'),
      ...(refused ? { details: { code: refused.code } } : {}),
    });
    await this.safely('message update', () =>
      this.deps.notifier.requestChanged(moved.request, how.note ?? 'granting failed'),
    );
    await this.safely('requester DM', () =>
      this.deps.notifier.toRequester(
        moved.request,
        how.toRequester ??
          `Granting request ${requestId} failed; the security team has been alerted. Nothing was granted.`,
      ),
    );
    await this.safely('security alert', () =>
      this.deps.notifier.alertSecurity(
        how.alert ?? `Granting request ${requestId} failed: ${failure}`,
        moved.request,
      ),
    );
    return moved.request;
  }

  /**
   * Ends a grant now: the requester, an approver of the request's rule, an admin, or `system`
   * (the revoke job, reconcile). Refusals come back as data; a grant-engine failure moves the
   * request to revoke-failed (when `recordFailure`, default true), alerts security and throws
   * GrantOperationError so a job retries. For `system` a grant already revoked is a no-op
   * success (`changed: false`), so a job that runs twice leaves exactly one revoke event.
   */
  async revokeGrant(
    requestId: string,
    actorId: string,
    options: { reason?: string; recordFailure?: boolean } = {},
  ): Promise<ActionResult> {
    const request = await this.deps.store.get(requestId);
    if (!request) return this.refuseMissing(actorId, 'revoke', requestId);
    if (actorId !== SYSTEM_ACTOR && !(await this.mayRevoke(request, actorId))) {
      // Not the requester, an approver now or an admin: involved only as a past approver.
      return this.refuseNotYours(
        actorId,
        'revoke',
        request,
        `only the requester, an approver of rule "${request.ruleName}" or an admin can revoke this grant`,
        request.approvals.some((a) => a.approverId === actorId),
      );
    }
    if (actorId === SYSTEM_ACTOR && request.state === 'revoked') {
      return { ok: true, request, message: `Request ${requestId} was already revoked.`, changed: false };
    }
    if (request.state !== 'active' && request.state !== 'revoke-failed') {
      return this.refuseWith(
        actorId,
        'revoke',
        request,
        refusal(
          'wrong-state',
          `request ${requestId} is ${describeState(request.state)}, not an active grant`,
        ),
      );
    }
    try {
      await this.deps.grants.revoke(request.accountId, requestId);
    } catch (error) {
      if (options.recordFailure !== false) await this.markRevokeFailed(requestId, error);
      throw new GrantOperationError(`revoking ${requestId} failed: ${errorText(error)}`, requestId, {
        cause: error,
      });
    }
    const moved = await this.deps.store.transition(requestId, {
      from: ['active', 'revoke-failed'],
      to: 'revoked',
      patch: { revokedBy: actorId, revokedAt: this.deps.clock.now(), failure: null },
    });
    if (!moved.ok) {
      // A second revoke job (a stalled one picked up again) lost the race to the first: fine.
      if (actorId === SYSTEM_ACTOR && moved.reason === 'state' && moved.state === 'revoked') {
        const now = (await this.deps.store.get(requestId)) ?? request;
        return {
          ok: true,
          request: now,
          message: `Request ${requestId} was already revoked.`,
          changed: false,
        };
      }
      return this.lostRace(actorId, 'revoke', request, moved);
    }
    await this.record(this.transitionEvent(actorId, 'revoke', moved, options.reason));
    await this.deps.scheduler.cancelGrantEnd(requestId);
    const how =
      actorId === SYSTEM_ACTOR ? `revoked: ${options.reason ?? 'by the bot'}` : `revoked by <@${actorId}>`;
    await this.safely('message update', () => this.deps.notifier.requestChanged(moved.request, how));
    await this.safely('requester DM', () =>
      this.deps.notifier.toRequester(
        moved.request,
        `Your access for request ${requestId} (${request.templateName} on ${request.accountName}) has been revoked${
          options.reason ? ` (${options.reason})` : ''
        }.`,
      ),
    );
    return { ok: true, request: moved.request, message: `Revoked request ${requestId}.`, changed: true };
  }

  /** The requester, an approver of the request's rule (as configured now) or an admin. */
  private async mayRevoke(request: AccessRequest, actorId: string): Promise<boolean> {
    if (request.requesterId === actorId) return true;
    const rule = this.rule(request.ruleName);
    if (rule && isApprover(rule, actorId, await this.membersOf(rule.approvers.groups))) return true;
    return this.isAdmin(actorId);
  }

  /** active → revoke-failed, with the error text; alerts the security channel. */
  private async markRevokeFailed(requestId: string, error: unknown): Promise<AccessRequest | undefined> {
    const failure = errorText(error);
    // The first failure moves active → revoke-failed; a later one only records its reason.
    let moved = await this.deps.store.transition(requestId, {
      from: ['active'],
      to: 'revoke-failed',
      patch: { failure },
    });
    if (!moved.ok && moved.reason === 'state' && moved.state === 'revoke-failed') {
      moved = await this.deps.store.annotate(requestId, { states: ['revoke-failed'], patch: { failure } });
    }
    if (!moved.ok) return undefined;
    await this.record(this.transitionEvent(SYSTEM_ACTOR, 'revoke', moved, failure, 'failed'));
    await this.safely('security alert', () =>
      this.deps.notifier.alertSecurity(`Revoking request ${requestId} failed: ${failure}`, moved.request),
    );
    await this.safely('message update', () =>
      this.deps.notifier.requestChanged(moved.request, 'revocation failed'),
    );
    return moved.request;
  }

  /**
   * What extension the requester could still ask for: the template's (else the global) maximum
   * number of extensions and maximum total duration, and the rule's maximum per grant.
   */
  extensionAllowance(request: AccessRequest): ExtensionAllowance {
    const rule = this.rule(request.ruleName);
    const template = this.deps.templates.get(request.templateName);
    const { limits } = this.deps.settings;
    const none = (reason: string): ExtensionAllowance => ({ maxSeconds: 0, needsApproval: false, reason });
    if (!rule || !template) return none('the rule or template of this grant no longer exists');
    if (request.state !== 'active' || request.expiresAt === undefined || request.startsAt === undefined) {
      return none(`request ${request.id} is ${describeState(request.state)}, not an active grant`);
    }
    const maxExtensions = template.maxExtensions ?? limits.maxExtensions;
    if (request.extensions >= maxExtensions) {
      return none(`this grant has already been extended ${request.extensions} times (the limit)`);
    }
    const maxTotal = template.maxTotalSeconds ?? limits.maxTotal;
    const left = Math.floor(maxTotal - (request.expiresAt - request.startsAt) / 1000);
    if (left < limits.min) {
      return none(`a grant may last at most ${formatDuration(maxTotal)} in total`);
    }
    return {
      maxSeconds: Math.min(maxDurationFor(rule, template, limits), left),
      needsApproval: !rule.extensions.autoApprove,
    };
  }

  /** Why `seconds` more cannot be granted now, or the rule and template that allow it. */
  private checkExtension(request: AccessRequest, seconds: number): Refusal | undefined {
    const { limits } = this.deps.settings;
    const rule = this.rule(request.ruleName);
    const template = this.deps.templates.get(request.templateName);
    if (request.state !== 'active' || request.expiresAt === undefined || request.startsAt === undefined) {
      return refusal(
        'wrong-state',
        `request ${request.id} is ${describeState(request.state)}, not an active grant`,
      );
    }
    if (request.expiresAt <= this.deps.clock.now()) return this.grantEnded(request.id, request.expiresAt);
    if (!rule || !template) return refusal('no-rule', 'the rule or template of this grant no longer exists');
    const maxExtensions = template.maxExtensions ?? limits.maxExtensions;
    if (request.extensions >= maxExtensions) {
      return refusal(
        'extension-limit',
        `this grant has already been extended ${request.extensions} times (the limit)`,
      );
    }
    if (!Number.isFinite(seconds) || seconds < limits.min) {
      return refusal('duration-too-short', `an extension must add at least ${formatDuration(limits.min)}`);
    }
    if (seconds > maxDurationFor(rule, template, limits)) {
      return refusal(
        'extension-limit',
        `one extension may add at most ${formatDuration(maxDurationFor(rule, template, limits))}`,
      );
    }
    const maxTotal = template.maxTotalSeconds ?? limits.maxTotal;
    const total = (request.expiresAt + seconds * 1000 - request.startsAt) / 1000;
    if (total > maxTotal) {
      const left = Math.max(0, Math.floor(maxTotal - (request.expiresAt - request.startsAt) / 1000));
      return refusal(
        'extension-limit',
        `a grant of ${request.templateName} may last at most ${formatDuration(maxTotal)} in total; this one can grow by ${
          left > 0 ? `at most ${formatDuration(left)}` : 'nothing more'
        }`,
      );
    }
    return undefined;
  }

  /** A grant whose end has passed (its revoke job may be late) is never lengthened. */
  private grantEnded(requestId: string, expiresAt: number | undefined): Refusal {
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
  async extendGrant(requestId: string, actorId: string, seconds: number): Promise<ActionResult> {
    const request = await this.deps.store.get(requestId);
    if (!request) return this.refuseMissing(actorId, 'extend', requestId);
    const refuse = (r: Refusal) => this.refuseWith(actorId, 'extend', request, r);
    if (request.requesterId !== actorId) {
      return this.refuseNotYours(actorId, 'extend', request, 'only the requester can extend a grant');
    }
    const problem = this.checkExtension(request, seconds);
    if (problem) return refuse(problem);
    // Someone who lost the right to ask (left the requester groups, became a guest, was
    // deactivated) keeps what was granted until it ends, but gets no more of it.
    const ineligible = await this.whyIneligible(actorId);
    if (ineligible) return refuse(ineligible);
    const rule = this.rule(request.ruleName)!;
    if (rule.extensions.autoApprove) return this.applyExtension(request, actorId, seconds);
    if (request.pendingExtension) {
      return refuse(
        refusal(
          'extension-needs-approval',
          `an extension by ${formatDuration(request.pendingExtension.seconds)} is already waiting for approval`,
        ),
      );
    }
    const now = this.deps.clock.now();
    const asked = await this.deps.store.annotate(requestId, {
      states: ['active'],
      expectedVersion: request.version,
      notExpiredAt: now,
      patch: {
        pendingExtension: { seconds, requestedAt: now, approvals: [] },
      },
    });
    if (!asked.ok && asked.reason === 'expired') return refuse(this.grantEnded(requestId, asked.expiresAt));
    if (!asked.ok) return this.lostRace(actorId, 'extend', request, asked);
    await this.record(
      this.transitionEvent(actorId, 'extension-request', asked, undefined, 'ok', {
        by: formatDuration(seconds),
      }),
    );
    const ref = await this.safely('extension approval message', () =>
      this.deps.notifier.extensionRequested(asked.request, rule),
    );
    if (ref) await this.patchPendingExtension(requestId, { message: ref });
    return {
      ok: true,
      request: asked.request,
      message: `Extension of request ${requestId} by ${formatDuration(seconds)} sent to the approvers of rule ${rule.name} (${rule.approvalsRequired} approval${rule.approvalsRequired > 1 ? 's' : ''} needed). Your access still ends ${new Date(request.expiresAt!).toISOString()} unless it is approved.`,
    };
  }

  /**
   * An approver's Approve on an extension: counted once per approver; the Nth applies it.
   * `requestedAt` names the extension the clicked message shows, so a click on the message of an
   * extension already decided never decides a newer one.
   */
  async approveExtension(requestId: string, clickerId: string, requestedAt?: number): Promise<ActionResult> {
    const checked = await this.checkExtensionDecider(requestId, clickerId, 'extension-approve', requestedAt);
    if (!checked.ok) return checked;
    const { request, rule } = checked;
    const pending = request.pendingExtension!;
    const approvals = [...pending.approvals, clickerId];
    if (approvals.length < rule.approvalsRequired) {
      const moved = await this.deps.store.annotate(requestId, {
        states: ['active'],
        expectedVersion: request.version,
        notExpiredAt: this.deps.clock.now(),
        patch: { pendingExtension: { ...pending, approvals } },
      });
      if (!moved.ok && moved.reason === 'expired') {
        const ended = this.grantEnded(requestId, moved.expiresAt);
        await this.clearPendingExtension(request, clickerId, ended.message);
        return this.refuseWith(clickerId, 'extension-approve', request, ended);
      }
      if (!moved.ok) return this.lostRace(clickerId, 'extension-approve', request, moved);
      await this.record(
        this.transitionEvent(clickerId, 'extension-approve', moved, undefined, 'ok', {
          approvals: approvals.length,
          required: rule.approvalsRequired,
        }),
      );
      await this.safely('extension message update', () =>
        this.deps.notifier.extensionChanged(
          moved.request,
          pending,
          `<@${clickerId}> approved (${approvals.length} of ${rule.approvalsRequired})`,
        ),
      );
      return {
        ok: true,
        request: moved.request,
        message: `Approval counted: ${approvals.length} of ${rule.approvalsRequired}.`,
      };
    }
    const problem = this.checkExtension(request, pending.seconds);
    if (problem) {
      await this.clearPendingExtension(request, clickerId, problem.message);
      return this.refuseWith(clickerId, 'extension-approve', request, problem);
    }
    const result = await this.applyExtension(request, clickerId, pending.seconds, {
      pendingExtension: null,
    });
    if (!result.ok && result.refusal.code === 'grant-ended') {
      await this.clearPendingExtension(request, clickerId, result.refusal.message);
    }
    if (result.ok) {
      await this.safely('extension message update', () =>
        this.deps.notifier.extensionChanged(result.request, pending, `<@${clickerId}> approved; extended`),
      );
      await this.safely('requester DM', () =>
        this.deps.notifier.toRequester(
          result.request,
          `Your extension of request ${requestId} was approved: access now ends ${new Date(
            result.request.expiresAt!,
          ).toISOString()}.`,
        ),
      );
    }
    return result;
  }

  async denyExtension(requestId: string, clickerId: string, requestedAt?: number): Promise<ActionResult> {
    const checked = await this.checkExtensionDecider(requestId, clickerId, 'extension-deny', requestedAt);
    if (!checked.ok) return checked;
    const moved = await this.clearPendingExtension(checked.request, clickerId, `denied by <@${clickerId}>`);
    if (!moved.ok) return moved;
    await this.safely('requester DM', () =>
      this.deps.notifier.toRequester(
        moved.request,
        `Your extension of request ${requestId} was denied by <@${clickerId}>; access ends as planned.`,
      ),
    );
    return { ok: true, request: moved.request, message: `Denied the extension of request ${requestId}.` };
  }

  private async checkExtensionDecider(
    requestId: string,
    clickerId: string,
    action: string,
    requestedAt?: number,
  ): Promise<{ ok: true; request: AccessRequest; rule: ApprovalRule } | { ok: false; refusal: Refusal }> {
    const request = await this.deps.store.get(requestId);
    if (!request)
      return this.refuseMissing(clickerId, action, requestId) as Promise<{ ok: false; refusal: Refusal }>;
    const fail = async (r: Refusal) => {
      await this.refused(clickerId, action, request, r);
      return { ok: false as const, refusal: r };
    };
    if (request.state !== 'active' || !request.pendingExtension) {
      return fail(refusal('not-pending', `no extension of request ${requestId} is waiting for a decision`));
    }
    if (requestedAt !== undefined && request.pendingExtension.requestedAt !== requestedAt) {
      return fail(
        refusal(
          'not-pending',
          `the extension of request ${requestId} you clicked was already decided; nothing was changed`,
        ),
      );
    }
    const rule = this.rule(request.ruleName);
    const [clicker, groupMembers] = await Promise.all([
      this.deps.people.person(clickerId),
      this.membersOf(rule?.approvers.groups ?? []),
    ]);
    // The request's own click-time checks, on the extension's approvals.
    const problem = checkDecision({
      request: {
        ...request,
        state: 'pending',
        approvals: request.pendingExtension.approvals.map((approverId) => ({ approverId, at: 0 })),
      },
      rule,
      clickerId,
      clicker,
      groupMembers,
      identities: await this.identitiesOf(request, clickerId, clicker, request.pendingExtension.approvals),
    });
    if (problem) return fail(problem);
    return { ok: true, request, rule: rule! };
  }

  private async clearPendingExtension(
    request: AccessRequest,
    actorId: string,
    note: string,
  ): Promise<{ ok: true; request: AccessRequest } | { ok: false; refusal: Refusal }> {
    const pending = request.pendingExtension!;
    const moved = await this.deps.store.annotate(request.id, {
      states: ['active'],
      expectedVersion: request.version,
      patch: { pendingExtension: null },
    });
    if (!moved.ok) {
      const r = await this.lostRace(actorId, 'extension-deny', request, moved);
      return r as { ok: false; refusal: Refusal };
    }
    await this.record(this.transitionEvent(actorId, 'extension-deny', moved, note));
    await this.safely('extension message update', () =>
      this.deps.notifier.extensionChanged(moved.request, pending, note),
    );
    return { ok: true, request: moved.request };
  }

  /** Sets fields of the pending extension without a version check (e.g. where its message is). */
  private async patchPendingExtension(
    requestId: string,
    fields: Partial<NonNullable<AccessRequest['pendingExtension']>>,
  ): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.deps.store.get(requestId);
      if (!current?.pendingExtension || current.state !== 'active') return;
      const moved = await this.deps.store.annotate(requestId, {
        states: ['active'],
        expectedVersion: current.version,
        patch: { pendingExtension: { ...current.pendingExtension, ...fields } },
      });
      if (moved.ok || moved.reason !== 'version') return;
    }
  }

  /** Store first (compare-and-set on the version), then IAM, then both jobs move. */
  private async applyExtension(
    request: AccessRequest,
    actorId: string,
    seconds: number,
    extraPatch: RequestPatch = {},
  ): Promise<ActionResult> {
    const requestId = request.id;
    const { limits } = this.deps.settings;
    const newExpiry = request.expiresAt! + seconds * 1000;
    // If IAM fails the stored end is later than IAM's, so access still ends early rather than
    // late, and we roll the store back.
    const moved = await this.deps.store.annotate(requestId, {
      states: ['active'],
      expectedVersion: request.version,
      notExpiredAt: this.deps.clock.now(),
      patch: { ...extraPatch, expiresAt: newExpiry, extensions: request.extensions + 1 },
    });
    if (!moved.ok && moved.reason === 'expired') {
      return this.refuseWith(actorId, 'extend', request, this.grantEnded(requestId, moved.expiresAt));
    }
    if (!moved.ok) return this.lostRace(actorId, 'extend', request, moved);
    try {
      await this.deps.grants.extend(request.accountId, requestId, new Date(newExpiry));
    } catch (error) {
      await this.deps.store.annotate(requestId, {
        states: ['active'],
        expectedVersion: moved.request.version,
        patch: { expiresAt: request.expiresAt, extensions: request.extensions },
      });
      await this.record(this.transitionEvent(actorId, 'extend', moved, errorText(error), 'failed'));
      throw new GrantOperationError(`extending ${requestId} failed: ${errorText(error)}`, requestId, {
        cause: error,
      });
    }
    await this.deps.scheduler.scheduleGrantEnd(requestId, {
      revokeAt: newExpiry,
      warnAt: newExpiry - limits.expiryWarning * 1000,
    });
    await this.record(
      this.transitionEvent(actorId, 'extend', moved, undefined, 'ok', {
        by: formatDuration(seconds),
        expiresAt: new Date(newExpiry).toISOString(),
      }),
    );
    await this.safely('message update', () =>
      this.deps.notifier.requestChanged(moved.request, `extended by ${formatDuration(seconds)}`),
    );
    return {
      ok: true,
      request: moved.request,
      message: `Extended request ${requestId} by ${formatDuration(seconds)}; it now ends ${new Date(newExpiry).toISOString()}.`,
      changed: true,
    };
  }

  /**
   * The expiry warning (warn-<id>): a DM saying when access ends, with an Extend button when an
   * extension is still possible. Does nothing for a grant that is no longer active or already
   * over. Slack failures propagate so the job is retried.
   */
  async warnExpiry(requestId: string): Promise<boolean> {
    const request = await this.deps.store.get(requestId);
    if (!request || request.state !== 'active' || request.expiresAt === undefined) return false;
    if (request.expiresAt <= this.deps.clock.now()) return false;
    const allowance = this.extensionAllowance(request);
    await this.deps.notifier.expiryWarning(request, allowance);
    await this.record({
      actor: SYSTEM_ACTOR,
      action: 'warn',
      outcome: 'ok',
      requestId,
      stateBefore: 'active',
      stateAfter: 'active',
      details: { expiresAt: new Date(request.expiresAt).toISOString(), canExtend: allowance.maxSeconds > 0 },
    });
    return true;
  }

  // ── pending timers (jobs) ─────────────────────────────────────────────────

  async remind(requestId: string): Promise<boolean> {
    return this.nudge(requestId, 'remind', (request, rule) => this.deps.notifier.remind(request, rule));
  }

  async escalate(requestId: string): Promise<boolean> {
    return this.nudge(requestId, 'escalate', (request, rule) => this.deps.notifier.escalate(request, rule));
  }

  /** pending → expired-unapproved at the rule's TTL; a decided request is left alone. */
  async expirePending(requestId: string): Promise<boolean> {
    const moved = await this.deps.store.transition(requestId, {
      from: ['pending'],
      to: 'expired-unapproved',
    });
    if (!moved.ok) return false;
    await this.record(this.transitionEvent(SYSTEM_ACTOR, 'expire', moved, 'no decision before the TTL'));
    await this.deps.scheduler.cancelPending(requestId);
    await this.safely('message update', () =>
      this.deps.notifier.requestChanged(moved.request, 'expired without a decision'),
    );
    await this.safely('requester DM', () =>
      this.deps.notifier.toRequester(
        moved.request,
        `Your request ${requestId} expired without a decision. Ask again with /aws-access if you still need access.`,
      ),
    );
    return true;
  }

  // ── reconcile (jobs) ──────────────────────────────────────────────────────

  /**
   * Removes a `/aws-access/` role that no open request accounts for (its request is unknown,
   * finished, or the store was wiped): IAM first, then an audit event.
   */
  async removeOrphanedRole(accountId: string, requestId: string, why: string): Promise<boolean> {
    const { removed } = await this.deps.grants.revoke(accountId, requestId);
    if (removed) {
      await this.record({
        actor: SYSTEM_ACTOR,
        action: 'reconcile-revoke',
        outcome: 'ok',
        requestId,
        reason: why,
        details: { account: accountId },
      });
      await this.safely('security alert', () =>
        this.deps.notifier.alertSecurity(
          `Reconcile removed role aws-access-${requestId} in ${accountId}: ${why}.`,
        ),
      );
    }
    return removed;
  }

  /**
   * A grant failed and its role could not be removed (GrantRollbackError): approved →
   * revoke-failed with the role recorded, security alerted, the requester told the truth.
   * Reconcile retries revoke-failed requests until the role is gone.
   */
  private async grantLeftRole(
    requestId: string,
    error: GrantRollbackError,
    startsAt: number,
    expiresAt: number,
  ): Promise<AccessRequest | undefined> {
    const failure = errorText(error);
    const moved = await this.deps.store.transition(requestId, {
      from: ['approved'],
      to: 'revoke-failed',
      patch: { failure, roleArn: error.roleArn, roleName: error.roleName, startsAt, expiresAt },
    });
    if (!moved.ok) return this.deps.store.get(requestId);
    await this.record(
      this.transitionEvent(SYSTEM_ACTOR, 'grant', moved, failure, 'failed', { roleArn: error.roleArn }),
    );
    await this.safely('security alert', () =>
      this.deps.notifier.alertSecurity(
        `Granting request ${requestId} failed and its role ${error.roleName} in ${error.accountId} could not be removed: ${failure}. Reconcile keeps trying to remove it.`,
        moved.request,
      ),
    );
    await this.safely('message update', () =>
      this.deps.notifier.requestChanged(moved.request, 'granting failed; removing its role'),
    );
    await this.safely('requester DM', () =>
      this.deps.notifier.toRequester(
        moved.request,
        `Granting request ${requestId} failed; the security team has been alerted. A role was partly created and could not be removed yet: do not use it; the bot keeps removing it.`,
      ),
    );
    return moved.request;
  }

  /**
   * A role whose name says one request and whose `aws-access:request-id` tag another: reconcile
   * goes by the name (the tag can be rewritten by anyone with iam:TagRole) and says so.
   */
  async reportRoleTagMismatch(accountId: string, role: ManagedRole): Promise<void> {
    await this.record({
      actor: SYSTEM_ACTOR,
      action: 'reconcile-tag-mismatch',
      outcome: 'failed',
      requestId: role.requestId,
      reason: `role ${role.roleName} carries request-id tag "${role.mismatchedTagRequestId ?? ''}"`,
      details: { account: accountId },
    });
    await this.deps.notifier.alertSecurity(
      `Role ${role.roleName} in ${accountId} carries the request-id tag "${role.mismatchedTagRequestId ?? ''}", not ${role.requestId ?? '?'}: someone changed its tags. Reconcile treats it as request ${role.requestId ?? '?'}'s role.`,
    );
  }

  /**
   * A role under `/aws-access/` the bot cannot have made (a sub-path, or a name that is not
   * `aws-access-<request id>`): neutered, deleted, audited and reported to security.
   */
  async removeForeignRole(accountId: string, role: ManagedRole): Promise<boolean> {
    if (!this.deps.grants.removeForeignRole) return false;
    const where = `${role.path ?? ''}${role.roleName}`;
    const { removed } = await this.deps.grants.removeForeignRole(accountId, role);
    await this.record({
      actor: SYSTEM_ACTOR,
      action: 'reconcile-remove-foreign',
      outcome: removed ? 'ok' : 'failed',
      reason: `role ${where} is under /aws-access/ but was not made by the bot`,
      details: { account: accountId },
    });
    await this.safely('security alert', () =>
      this.deps.notifier.alertSecurity(
        `Reconcile ${removed ? 'removed' : 'found (already gone)'} role ${where} in ${accountId}: it is under /aws-access/ but the bot never makes roles there (sub-path or foreign name). Find out who created it.`,
      ),
    );
    return removed;
  }

  /** An active grant whose role is gone: someone outside the bot removed it. */
  async reportMissingRole(request: AccessRequest): Promise<void> {
    await this.record({
      actor: SYSTEM_ACTOR,
      action: 'reconcile-missing-role',
      outcome: 'failed',
      requestId: request.id,
      stateBefore: request.state,
      stateAfter: request.state,
      details: { account: request.accountId },
    });
    await this.deps.notifier.alertSecurity(
      `Request ${request.id} is an active grant but its role aws-access-${request.id} is missing in ${request.accountId}; it was removed outside the bot.`,
      request,
    );
  }

  /** Oldest first; for reconcile. */
  async listInState(state: RequestState, limit = 1000): Promise<AccessRequest[]> {
    return this.deps.store.listByState(state, limit);
  }

  // ── reading ───────────────────────────────────────────────────────────────

  async get(requestId: string): Promise<AccessRequest | undefined> {
    return this.deps.store.get(requestId);
  }

  /** The requester's open requests and grants, newest first. */
  async listFor(
    userId: string,
  ): Promise<{ active: AccessRequest[]; pending: AccessRequest[]; recent: AccessRequest[] }> {
    const all = await this.deps.store.listByRequester(userId, 50);
    return {
      active: all.filter((r) => r.state === 'active' || r.state === 'revoke-failed'),
      pending: all.filter((r) => r.state === 'pending' || r.state === 'approved'),
      recent: all.filter((r) => !OPEN_STATES.includes(r.state)).slice(0, 5),
    };
  }

  /**
   * What waits for this user as an approver (App Home): pending requests they could approve now
   * (not their own, not already counted) and break-glass grants they may review. The rules'
   * user groups are looked up once for both lists.
   */
  async waitingFor(userId: string): Promise<{ approvals: AccessRequest[]; reviews: AccessRequest[] }> {
    const [pending, unreviewed] = await Promise.all([
      this.deps.store.listByState('pending', 100),
      this.deps.store.listUnreviewedBreakGlass(100),
    ]);
    const rules = new Map([...pending, ...unreviewed].map((r) => [r.ruleName, this.rule(r.ruleName)]));
    const groups = [...new Set([...rules.values()].flatMap((r) => r?.approvers.groups ?? []))];
    const members = await this.membersOf(groups);
    const approverOf = (r: AccessRequest): boolean => {
      const rule = rules.get(r.ruleName);
      return rule !== undefined && r.requesterId !== userId && isApprover(rule, userId, members);
    };
    return {
      approvals: pending.filter((r) => approverOf(r) && !r.approvals.some((a) => a.approverId === userId)),
      reviews: unreviewed.filter(approverOf),
    };
  }

  /**
   * credentials mode: a fresh session for a grant that is still active, DM'd to the requester
   * only (the role-chaining cap keeps each session to an hour; the grant may last longer).
   * Nothing of the session is stored or audited beyond the fact of the refresh.
   */
  async refreshDelivery(requestId: string, actorId: string): Promise<ActionResult> {
    const request = await this.deps.store.get(requestId);
    if (!request) return this.refuseMissing(actorId, 'refresh', requestId);
    if (request.requesterId !== actorId) {
      return this.refuseNotYours(
        actorId,
        'refresh',
        request,
        'only the requester can refresh the credentials of a grant',
      );
    }
    if (request.state !== 'active' || (request.expiresAt ?? 0) <= this.deps.clock.now()) {
      return this.refuseWith(
        actorId,
        'refresh',
        request,
        refusal('wrong-state', `request ${requestId} is ${request.state}, not an active grant`),
      );
    }
    const delivery = await this.deps.grants.refreshDelivery(request.accountId, requestId, {
      slackUserId: request.requesterId,
      principalArn: request.principalArn,
      ...(request.principalSessionName ? { principalSessionName: request.principalSessionName } : {}),
      displayName: request.requesterName,
    });
    await this.deps.notifier.delivered(request, delivery);
    await this.record({
      actor: actorId,
      action: 'refresh',
      outcome: 'ok',
      requestId,
      stateBefore: request.state,
      stateAfter: request.state,
    });
    return { ok: true, request, message: `New credentials for request ${requestId} are in your DMs.` };
  }

  /**
   * Why this person may not ask for access at all (deleted, guest, bot, outside the requester
   * groups), or undefined. The form, the account type-ahead and `templates` use it too, so a
   * guest learns nothing about the accounts.
   */
  async whyIneligible(userId: string): Promise<Refusal | undefined> {
    const [person, memberships] = await Promise.all([
      this.deps.people.person(userId),
      this.membershipsOf(userId, this.deps.settings.requesterGroups),
    ]);
    return this.ineligibility(person, memberships);
  }

  /** `memberships`: the person's groups among (at least) `slack.requesterGroups`. */
  private ineligibility(person: Person | undefined, memberships: ReadonlySet<string>): Refusal | undefined {
    return checkPerson(person) ?? checkEligibility(this.deps.settings.requesterGroups, memberships);
  }

  /** Whoever asked, approved or administers may see a request's status. */
  async status(requestId: string, userId: string): Promise<ActionResult> {
    const request = await this.deps.store.get(requestId);
    if (!request) return { ok: false, refusal: refusal('not-found', `request ${requestId} does not exist`) };
    if (!(await this.isInvolved(request, userId))) {
      return { ok: false, refusal: refusal('not-found', `request ${requestId} does not exist`) };
    }
    return { ok: true, request, message: describeState(request.state) };
  }

  private async isAdmin(userId: string): Promise<boolean> {
    const members = await this.membersOf(this.deps.settings.adminGroups);
    return [...members.values()].some((m) => m.includes(userId));
  }

  // ── break-glass review ────────────────────────────────────────────────────

  /**
   * Records one approver's review of a break-glass grant, whatever state the grant is in now.
   * Authority is checked at click time like an approval. The review is a versioned
   * compare-and-set that keeps the state: the first valid click wins, a later one is refused
   * ("already reviewed by …"); a concurrent change of the grant (revoke, extend) only makes us
   * re-read and try again.
   */
  async reviewBreakGlass(requestId: string, clickerId: string): Promise<ActionResult> {
    const action = 'break-glass-review';
    let request = await this.deps.store.get(requestId);
    if (!request) return this.refuseMissing(clickerId, action, requestId);
    const rule = this.rule(request.ruleName);
    const [clicker, groupMembers] = await Promise.all([
      this.deps.people.person(clickerId),
      this.membersOf(rule?.approvers.groups ?? []),
    ]);
    const identities = await this.identitiesOf(request, clickerId, clicker, []);
    const problem = checkReviewer({ request, rule, clickerId, clicker, groupMembers, identities });
    if (problem) return this.refuseWith(clickerId, action, request, problem);
    const at = this.deps.clock.now();
    for (let attempt = 0; attempt < 5; attempt++) {
      const moved = await this.deps.store.annotate(requestId, {
        states: [request.state],
        expectedVersion: request.version,
        patch: { reviewedBy: clickerId, reviewedAt: at },
      });
      if (moved.ok) {
        await this.record({
          ...this.transitionEvent(clickerId, action, moved),
          details: { rule: request.ruleName },
        });
        await this.safely('break-glass review message', () =>
          this.deps.notifier.breakGlassReviewed(moved.request),
        );
        return {
          ok: true,
          request: moved.request,
          message: `Marked break-glass request ${requestId} as reviewed.`,
          changed: true,
        };
      }
      if (moved.reason === 'missing') return this.refuseMissing(clickerId, action, requestId);
      const current = await this.deps.store.get(requestId);
      if (!current) return this.refuseMissing(clickerId, action, requestId);
      const reviewed = alreadyReviewed(current);
      if (reviewed) return this.refuseWith(clickerId, action, current, reviewed);
      request = current;
    }
    return this.refuseWith(
      clickerId,
      action,
      request,
      refusal('wrong-state', `request ${requestId} changed meanwhile; nothing was changed, try again`),
    );
  }

  // ── helpers ───────────────────────────────────────────────────────────────

  private async nudge(
    requestId: string,
    action: 'remind' | 'escalate',
    send: (request: AccessRequest, rule: ApprovalRule) => Promise<void>,
  ): Promise<boolean> {
    const request = await this.deps.store.get(requestId);
    const rule = request && this.rule(request.ruleName);
    if (!request || !rule || request.state !== 'pending') return false;
    await send(request, rule);
    await this.record({
      actor: SYSTEM_ACTOR,
      action,
      outcome: 'ok',
      requestId,
      stateBefore: 'pending',
      stateAfter: 'pending',
    });
    return true;
  }

  /** `strict`: a failed look-up throws instead of counting as an empty group. */
  private async membersOf(groups: readonly string[], strict = false): Promise<Map<string, string[]>> {
    const entries = await Promise.all(
      groups.map(async (g) => {
        const members = this.deps.people.groupMembers(g);
        return [g, await (strict ? members : members.catch(() => []))] as const;
      }),
    );
    return new Map(entries);
  }

  private async membershipsOf(
    userId: string,
    groups: readonly string[],
    strict = false,
  ): Promise<Set<string>> {
    const members = await this.membersOf(groups, strict);
    return new Set([...members].filter(([, users]) => users.includes(userId)).map(([g]) => g));
  }

  private transitionEvent(
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
  private async isInvolved(request: AccessRequest, userId: string): Promise<boolean> {
    const rule = this.rule(request.ruleName);
    return (
      request.requesterId === userId ||
      request.approvals.some((a) => a.approverId === userId) ||
      (rule !== undefined && isApprover(rule, userId, await this.membersOf(rule.approvers.groups))) ||
      (await this.isAdmin(userId))
    );
  }

  /**
   * A refusal for someone acting on a request that is not theirs. People with no part in it are
   * told it does not exist, as `status` does, so request ids reveal nothing about other people's
   * access; the attempt is audited either way. `involved` saves the look-ups when the caller
   * already knows.
   */
  private async refuseNotYours(
    actorId: string,
    action: string,
    request: AccessRequest,
    message: string,
    involved?: boolean,
  ): Promise<ActionResult> {
    const r =
      (involved ?? (await this.isInvolved(request, actorId)))
        ? refusal('not-yours', message)
        : refusal('not-found', `request ${request.id} does not exist`);
    return this.refuseWith(actorId, action, request, r);
  }

  private async refuseMissing(actorId: string, action: string, requestId: string): Promise<ActionResult> {
    const r = refusal('not-found', `request ${requestId} does not exist`);
    await this.record({ actor: actorId, action, outcome: 'refused', requestId, reason: r.message });
    return { ok: false, refusal: r };
  }

  private async refuseWith(
    actorId: string,
    action: string,
    request: AccessRequest,
    r: Refusal,
  ): Promise<ActionResult> {
    await this.refused(actorId, action, request, r);
    return { ok: false, refusal: r };
  }

  private async lostRace(
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
    return this.refuseWith(actorId, action, { ...request, state }, r);
  }

  private async refused(actorId: string, action: string, request: AccessRequest, r: Refusal): Promise<void> {
    await this.record({
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
  private async record(event: Omit<AuditEvent, 'at'>): Promise<void> {
    await this.recordStrictly(event);
  }

  /**
   * Fail closed: for the events that create access (an approval, a grant) the caller must know
   * whether the event was written, because an action the audit log could not take must not
   * stand. Returns false (after reporting the error to onError) when the append failed.
   */
  private async recordStrictly(event: Omit<AuditEvent, 'at'>): Promise<boolean> {
    try {
      await this.deps.audit.record({ at: new Date(this.deps.clock.now()).toISOString(), ...event });
      return true;
    } catch (error) {
      this.deps.onError(error, 'audit');
      return false;
    }
  }

  /**
   * An approval the audit log could not take does not count. The store has already counted it
   * and an approval cannot be taken out of the store again, so the request ends instead, before
   * anything is granted: still pending (more approvals needed) → `denied` by `system`; approved
   * by this click → `failed`. Should another approver's click have got it granted meanwhile, the
   * grant is revoked. The approver is told the approval could not be recorded, the requester
   * that nothing was granted, security is alerted; the follow-up events are best effort (the
   * log is probably still failing).
   */
  private async unrecordedApproval(request: AccessRequest, clickerId: string): Promise<ActionResult> {
    const id = request.id;
    const why = `the approval by <@${clickerId}> could not be written to the audit log`;
    let moved = await this.deps.store.transition(id, {
      from: ['pending'],
      to: 'denied',
      patch: { decidedBy: SYSTEM_ACTOR, decidedAt: this.deps.clock.now(), denyReason: why },
    });
    if (!moved.ok && moved.reason === 'state' && moved.state === 'approved') {
      moved = await this.deps.store.transition(id, {
        from: ['approved'],
        to: 'failed',
        patch: { failure: why },
      });
    }
    if (moved.ok) {
      const ended = moved.request;
      await this.record(this.transitionEvent(SYSTEM_ACTOR, 'approve', moved, why, 'failed'));
      await this.safely('cancel reminders', () => this.deps.scheduler.cancelPending(id));
      await this.safely('message update', () =>
        this.deps.notifier.requestChanged(ended, 'an approval could not be recorded; nothing was granted'),
      );
      await this.safely('requester DM', () =>
        this.deps.notifier.toRequester(
          ended,
          `Your request ${id} could not be approved: an approval could not be recorded in the audit log. Nothing was granted; please request again.`,
        ),
      );
    } else if (!moved.ok && moved.reason === 'state' && moved.state === 'active') {
      await this.revokeGrant(id, SYSTEM_ACTOR, { reason: why }).catch((e: unknown) =>
        this.deps.onError(e, 'revoke'),
      );
    }
    await this.safely('security alert', () =>
      this.deps.notifier.alertSecurity(
        `Request ${id}: ${why}; the approval did not count and nothing was granted on it. Check the audit log (aws-access-bot audit verify) and Redis.`,
        moved.ok ? moved.request : request,
      ),
    );
    return {
      ok: false,
      refusal: refusal(
        'wrong-state',
        `your approval of request ${id} could not be recorded in the audit log, so it does not count: the request was ended and nothing was granted (the security team has been alerted)`,
      ),
    };
  }

  /**
   * A grant whose `grant` event the audit log could not take is taken back: the role is removed
   * through the grant engine and the request (still `approved`) ends `failed`. The requester is
   * told granting failed, never that access was granted; security is alerted, and told so when
   * removing the role failed too (reconcile removes roles no active request owns).
   */
  private async unrecordedGrant(request: AccessRequest): Promise<AccessRequest | undefined> {
    const id = request.id;
    let removed = true;
    await this.deps.grants.revoke(request.accountId, id).catch((e: unknown) => {
      removed = false;
      this.deps.onError(e, 'revoke');
    });
    return this.failGrant(id, {
      failure: `the grant could not be written to the audit log; ${
        removed ? 'the role was removed again' : 'removing the role failed too'
      }`,
      toRequester: `Granting request ${id} failed; the security team has been alerted. ${
        removed ? 'Nothing was granted.' : 'The role is being removed; do not use it.'
      }`,
    });
  }

  private async safely<T>(what: string, run: () => Promise<T>): Promise<T | undefined> {
    try {
      return await run();
    } catch (error) {
      this.deps.onError(error, what);
      return undefined;
    }
  }
}

export type { RequestPatch };
