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
  groupsReferencedByRules,
  isApprover,
  maxDurationFor,
  noRuleRefusal,
  refusal,
  type ApprovalRule,
  type DurationLimits,
  type Person,
  type Refusal,
} from './approval-policy.js';
import type { AuditEvent, AuditLog } from './audit-event.js';
import { resolvePrincipal, type IdentitySettings } from './identity.js';
import type {
  Account,
  AccountDirectory,
  Clock,
  GrantEngine,
  TemplateCatalog,
  TemplateInfo,
} from './ports.js';
import type {
  PeopleDirectory,
  RequestNotifier,
  RequestPatch,
  RequestScheduler,
  RequestStore,
  TransitionOutcome,
} from './request-ports.js';

export interface RequestSettings {
  rules: readonly ApprovalRule[];
  limits: DurationLimits & { expiryWarning: number };
  identities: IdentitySettings;
  /** When non-empty, only members may request. */
  requesterGroups: readonly string[];
  /** Members may revoke any grant. */
  adminGroups: readonly string[];
  region?: string;
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
  account: Account;
  template: TemplateInfo;
  rule: ApprovalRule;
  durationSeconds: number;
  reason: string;
}

export type Prepared = { ok: true; prepared: PreparedRequest } | { ok: false; refusals: Refusal[] };
export type ActionResult =
  { ok: true; request: AccessRequest; message: string } | { ok: false; refusal: Refusal };

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
    const requester = await this.deps.people.person(draft.requesterId);
    const personProblem = checkPerson(requester);
    if (personProblem || !requester) return refuse([personProblem!]);
    const eligibility = checkEligibility(
      settings.requesterGroups,
      await this.membershipsOf(draft.requesterId, settings.requesterGroups),
    );
    if (eligibility) return refuse([eligibility]);

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
    const notAllowed = checkTemplateAllowed(template, account);
    if (notAllowed) return refuse([notAllowed]);

    const requesterGroups = await this.membershipsOf(
      draft.requesterId,
      groupsReferencedByRules(settings.rules),
    );
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
    const principalArn = resolvePrincipal(settings.identities, requester.id, requester.email);
    if (!principalArn) {
      refusals.push(
        refusal(
          'no-identity',
          'your Slack account is not mapped to an AWS identity; ask your platform team to add you to the identity map',
        ),
      );
    }
    if (refusals.length || !principalArn) return refuse(refusals);
    return {
      ok: true,
      prepared: {
        requester,
        principalArn,
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
      principalArn: prepared.principalArn,
      accountId: account.id,
      accountName: account.name,
      ouPath: account.ouPath,
      templateName: template.name,
      durationSeconds: prepared.durationSeconds,
      reason: prepared.reason,
      ruleName: rule.name,
      approvalsRequired: rule.approvalsRequired,
      approvals: [],
      breakGlass: template.breakGlass,
      autoApproved: false,
      createdAt: now,
      updatedAt: now,
      pendingUntil: now + rule.ttl * 1000,
      extensions: 0,
    };
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

    if (template.breakGlass || rule.autoApprove) {
      const action = template.breakGlass ? 'break-glass' : 'auto-approve';
      const moved = await this.deps.store.transition(request.id, {
        from: ['pending'],
        to: 'approved',
        patch: { autoApproved: true, decidedBy: SYSTEM_ACTOR, decidedAt: now },
      });
      if (!moved.ok) return (await this.deps.store.get(request.id)) ?? request;
      await this.record(this.transitionEvent(SYSTEM_ACTOR, action, moved, `rule ${rule.name}`));
      if (template.breakGlass) {
        const ref = await this.safely('break-glass alert', () =>
          this.deps.notifier.breakGlass(moved.request, rule),
        );
        if (ref) await this.deps.store.setMessage(request.id, ref);
      }
      await this.provision(request.id);
      return (await this.deps.store.get(request.id)) ?? moved.request;
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
    const stored = (await this.deps.store.get(request.id)) ?? request;
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
    const problem = checkDecision({ request, rule, clickerId, clicker, groupMembers });
    if (problem) {
      await this.refused(clickerId, action, request, problem);
      return problem;
    }
    return request;
  }

  async approve(requestId: string, clickerId: string): Promise<ActionResult> {
    const checked = await this.checkDecider(requestId, clickerId, 'approve');
    if (!('id' in checked)) return { ok: false, refusal: checked };
    const outcome = await this.deps.store.approve(requestId, clickerId, this.deps.clock.now());
    if (outcome.result === 'missing')
      return { ok: false, refusal: refusal('not-found', `request ${requestId} does not exist`) };
    if (!('request' in outcome)) {
      const problem =
        outcome.result === 'already'
          ? refusal('already-approved', `you have already approved request ${requestId}`)
          : outcome.result === 'self'
            ? refusal('self-approval', 'you cannot decide your own request')
            : refusal('not-pending', `request ${requestId} is already ${outcome.state}; nothing was changed`);
      await this.refused(clickerId, 'approve', checked, problem);
      return { ok: false, refusal: problem };
    }
    const { request, count } = outcome;
    await this.record({
      actor: clickerId,
      action: 'approve',
      outcome: 'ok',
      requestId,
      stateBefore: 'pending',
      stateAfter: request.state,
      details: { approvals: count, required: request.approvalsRequired },
    });
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
      return this.refuseWith(
        actorId,
        'cancel',
        request,
        refusal('not-yours', 'only the requester can cancel a request'),
      );
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
          displayName: request.requesterName,
        },
        startsAt: new Date(startsAt),
        expiresAt: new Date(expiresAt),
        region: this.deps.settings.region,
      });
    } catch (error) {
      const failure = errorText(error);
      const moved = await this.deps.store.transition(requestId, {
        from: ['approved'],
        to: 'failed',
        patch: { failure },
      });
      if (moved.ok) {
        await this.record(this.transitionEvent(SYSTEM_ACTOR, 'grant', moved, failure, 'failed'));
        await this.safely('message update', () =>
          this.deps.notifier.requestChanged(moved.request, 'granting failed'),
        );
        await this.safely('requester DM', () =>
          this.deps.notifier.toRequester(
            moved.request,
            `Granting request ${requestId} failed; the security team has been alerted. Nothing was granted.`,
          ),
        );
        await this.safely('security alert', () =>
          this.deps.notifier.alertSecurity(`Granting request ${requestId} failed: ${failure}`, moved.request),
        );
        return moved.request;
      }
      return this.deps.store.get(requestId);
    }
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
      return this.deps.store.get(requestId);
    }
    await this.deps.scheduler.scheduleGrantEnd(requestId, {
      revokeAt: expiresAt,
      warnAt: expiresAt - this.deps.settings.limits.expiryWarning * 1000,
    });
    await this.record(
      this.transitionEvent(SYSTEM_ACTOR, 'grant', moved, undefined, 'ok', {
        roleArn: result.roleArn,
        expiresAt: new Date(expiresAt).toISOString(),
      }),
    );
    await this.safely('delivery DM', () => this.deps.notifier.delivered(moved.request, result.delivery));
    await this.safely('message update', () =>
      this.deps.notifier.requestChanged(moved.request, 'access granted'),
    );
    return moved.request;
  }

  /**
   * Ends a grant now: the requester, an admin, or `system` (the revoke job, reconcile). Refusals
   * come back as data; a grant-engine failure moves the request to revoke-failed (when
   * `recordFailure`, default true), alerts security and throws GrantOperationError so a job retries.
   */
  async revokeGrant(
    requestId: string,
    actorId: string,
    options: { reason?: string; recordFailure?: boolean } = {},
  ): Promise<ActionResult> {
    const request = await this.deps.store.get(requestId);
    if (!request) return this.refuseMissing(actorId, 'revoke', requestId);
    if (actorId !== SYSTEM_ACTOR && request.requesterId !== actorId && !(await this.isAdmin(actorId))) {
      return this.refuseWith(
        actorId,
        'revoke',
        request,
        refusal('not-yours', 'only the requester or an admin can revoke this grant'),
      );
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
    if (!moved.ok) return this.lostRace(actorId, 'revoke', request, moved);
    await this.record(this.transitionEvent(actorId, 'revoke', moved, options.reason));
    await this.deps.scheduler.cancelGrantEnd(requestId);
    const who = actorId === SYSTEM_ACTOR ? (options.reason ?? 'the bot') : `<@${actorId}>`;
    await this.safely('message update', () =>
      this.deps.notifier.requestChanged(moved.request, `revoked by ${who}`),
    );
    await this.safely('requester DM', () =>
      this.deps.notifier.toRequester(
        moved.request,
        `Your access for request ${requestId} (${request.templateName} on ${request.accountName}) has been revoked${
          options.reason ? ` (${options.reason})` : ''
        }.`,
      ),
    );
    return { ok: true, request: moved.request, message: `Revoked request ${requestId}.` };
  }

  /** active → revoke-failed, with the error text; alerts the security channel. */
  async markRevokeFailed(requestId: string, error: unknown): Promise<AccessRequest | undefined> {
    const failure = errorText(error);
    const moved = await this.deps.store.transition(requestId, {
      from: ['active', 'revoke-failed'],
      to: 'revoke-failed',
      patch: { failure },
    });
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
   * Lengthens an active grant by `seconds`, within the template's and global limits. Extensions
   * that need a fresh approval are refused with a clear message for now (see docs/slack-flow.md).
   */
  async extendGrant(requestId: string, actorId: string, seconds: number): Promise<ActionResult> {
    const request = await this.deps.store.get(requestId);
    if (!request) return this.refuseMissing(actorId, 'extend', requestId);
    const refuse = (code: Parameters<typeof refusal>[0], message: string) =>
      this.refuseWith(actorId, 'extend', request, refusal(code, message));
    if (request.requesterId !== actorId) return refuse('not-yours', 'only the requester can extend a grant');
    if (request.state !== 'active' || request.expiresAt === undefined || request.startsAt === undefined) {
      return refuse(
        'wrong-state',
        `request ${requestId} is ${describeState(request.state)}, not an active grant`,
      );
    }
    const rule = this.rule(request.ruleName);
    const template = this.deps.templates.get(request.templateName);
    const { limits } = this.deps.settings;
    if (!rule || !template) return refuse('no-rule', 'the rule or template of this grant no longer exists');
    const maxExtensions = template.maxExtensions ?? limits.maxExtensions;
    if (request.extensions >= maxExtensions) {
      return refuse(
        'extension-limit',
        `this grant has already been extended ${request.extensions} times (the limit)`,
      );
    }
    if (seconds > maxDurationFor(rule, template, limits)) {
      return refuse(
        'extension-limit',
        `one extension may add at most ${formatDuration(maxDurationFor(rule, template, limits))}`,
      );
    }
    const newExpiry = request.expiresAt + seconds * 1000;
    const maxTotal = template.maxTotalSeconds ?? limits.maxTotal;
    if ((newExpiry - request.startsAt) / 1000 > maxTotal) {
      return refuse('extension-limit', `a grant may last at most ${formatDuration(maxTotal)} in total`);
    }
    if (!rule.extensions.autoApprove) {
      return refuse(
        'extension-needs-approval',
        `extensions under rule "${rule.name}" need a new approval: ask again with /aws-access`,
      );
    }
    // Store first (compare-and-set on the version), then IAM: if IAM fails the stored end is
    // later than IAM's, so access still ends early rather than late, and we roll the store back.
    const moved = await this.deps.store.transition(requestId, {
      from: ['active'],
      to: 'active',
      expectedVersion: request.version,
      patch: { expiresAt: newExpiry, extensions: request.extensions + 1 },
    });
    if (!moved.ok) return this.lostRace(actorId, 'extend', request, moved);
    try {
      await this.deps.grants.extend(request.accountId, requestId, new Date(newExpiry));
    } catch (error) {
      await this.deps.store.transition(requestId, {
        from: ['active'],
        to: 'active',
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
    };
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

  /** Pending requests this user could approve now (not their own, not already counted). */
  async waitingFor(userId: string): Promise<AccessRequest[]> {
    const pending = await this.deps.store.listByState('pending', 100);
    const rules = new Map(pending.map((r) => [r.ruleName, this.rule(r.ruleName)]));
    const groups = [...new Set([...rules.values()].flatMap((r) => r?.approvers.groups ?? []))];
    const members = await this.membersOf(groups);
    return pending.filter((r) => {
      const rule = rules.get(r.ruleName);
      return (
        rule !== undefined &&
        r.requesterId !== userId &&
        !r.approvals.some((a) => a.approverId === userId) &&
        isApprover(rule, userId, members)
      );
    });
  }

  /** Whoever asked, approved or administers may see a request's status. */
  async status(requestId: string, userId: string): Promise<ActionResult> {
    const request = await this.deps.store.get(requestId);
    if (!request) return { ok: false, refusal: refusal('not-found', `request ${requestId} does not exist`) };
    const rule = this.rule(request.ruleName);
    const involved =
      request.requesterId === userId ||
      request.approvals.some((a) => a.approverId === userId) ||
      (rule !== undefined && isApprover(rule, userId, await this.membersOf(rule.approvers.groups))) ||
      (await this.isAdmin(userId));
    if (!involved) return { ok: false, refusal: refusal('not-found', `request ${requestId} does not exist`) };
    return { ok: true, request, message: describeState(request.state) };
  }

  async isAdmin(userId: string): Promise<boolean> {
    const members = await this.membersOf(this.deps.settings.adminGroups);
    return [...members.values()].some((m) => m.includes(userId));
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

  private async membersOf(groups: readonly string[]): Promise<Map<string, string[]>> {
    const entries = await Promise.all(
      groups.map(async (g) => [g, await this.deps.people.groupMembers(g).catch(() => [])] as const),
    );
    return new Map(entries);
  }

  private async membershipsOf(userId: string, groups: readonly string[]): Promise<Set<string>> {
    const members = await this.membersOf(groups);
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

  private async record(event: Omit<AuditEvent, 'at'>): Promise<void> {
    try {
      await this.deps.audit.record({ at: new Date(this.deps.clock.now()).toISOString(), ...event });
    } catch (error) {
      this.deps.onError(error, 'audit');
    }
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
