/**
 * The identity-center grant backend (docs/aws-grants.md "Identity Center"): a bot-owned
 * permission set per template, and per request an account assignment of that set to the
 * requester's Identity Center user in the target account. One person may hold the same set in
 * the same account through several requests: the holders in Redis (store/assignment-holders.ts)
 * count them, and the assignment goes when the last one ends. At that revoke the set's inline
 * policy gets a deny for that user's sessions in that account issued before the revoke, so a
 * session already handed out ends too; the deny is dropped once such sessions have expired.
 */
import type {
  Delivery,
  GrantEngine,
  GrantRequest,
  GrantResult,
  ManagedRole,
  ReconcileReport,
  Requester,
} from '../../domain/ports.js';
import { AppError, ErrorCode } from '../../errors.js';
import type { AssignmentHold } from '../../store/assignment-holders.js';
import type { BoundaryTemplate } from '../../templates/boundary-template.js';
import {
  assignmentExists,
  createAssignment,
  deleteAssignment,
  listAssignments,
} from './account-assignments.js';
import type { IdentityCenterOptions } from './identity-center-options.js';
import { findIdentityCenterUser } from './identity-lookup.js';
import { sessionSeconds } from './permission-set-content.js';
import {
  ensurePermissionSet,
  ownedPermissionSets,
  refreshSessionDenies,
  type OwnedPermissionSet,
} from './permission-sets.js';
import { portalDelivery } from './portal-delivery.js';

export type { IdentityCenterOptions } from './identity-center-options.js';

/** How long reconcile reuses the list of bot-owned sets across accounts of one run. */
const OWNED_SETS_TTL_MS = 60_000;

export class IdentityCenterGrantEngine implements GrantEngine {
  private ownedCache?: { at: number; sets: Promise<OwnedPermissionSet[]> };
  private deniesRefreshedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: IdentityCenterOptions) {}

  private template(name: string): BoundaryTemplate {
    const template = this.options.templates.template(name);
    if (!template) throw new AppError(ErrorCode.NotFound, `no template named "${name}"`);
    return template;
  }

  private assignmentLock(
    hold: Pick<AssignmentHold, 'accountId' | 'permissionSetArn' | 'principalId'>,
  ): string {
    return `assignment:${this.options.holders.assignmentKey(hold.accountId, hold.permissionSetArn, hold.principalId)}`;
  }

  /** The principal a request names for an Identity Center user: the identity store user's ARN. */
  userArn(userId: string): string {
    return `arn:${this.options.partition}:identitystore:::user/${userId}`;
  }

  async identify(
    _accountId: string,
    _templateName: string,
    requester: { slackUserId: string; email?: string },
  ): Promise<{ principalArn: string } | { refusal: string }> {
    const lookup = await findIdentityCenterUser(this.options, requester);
    return lookup.found ? { principalArn: this.userArn(lookup.user.userId) } : { refusal: lookup.message };
  }

  async grant(request: GrantRequest): Promise<GrantResult> {
    const { options } = this;
    const template = this.template(request.templateName);
    const lookup = await findIdentityCenterUser(options, {
      slackUserId: request.requester.slackUserId,
      email: request.requester.email ?? request.requesterEmail,
    });
    if (!lookup.found) throw new AppError(ErrorCode.Forbidden, lookup.message);
    // The user the request was approved for, not whoever the e-mail names now.
    if (request.requester.principalArn !== this.userArn(lookup.user.userId)) {
      throw new AppError(
        ErrorCode.Forbidden,
        `the requester's Identity Center user is no longer ${request.requester.principalArn}; nothing was granted`,
      );
    }
    const set = await ensurePermissionSet(options, template, request.accountId);
    const hold: AssignmentHold = {
      requestId: request.requestId,
      accountId: request.accountId,
      instanceArn: options.instanceArn,
      permissionSetArn: set.arn,
      permissionSetName: set.name,
      principalId: lookup.user.userId,
      userName: lookup.user.userName,
      templateName: template.name,
      heldSince: options.clock.now(),
    };
    const target = {
      accountId: hold.accountId,
      permissionSetArn: hold.permissionSetArn,
      principalId: hold.principalId,
    };
    await options.holders.withLock(this.assignmentLock(hold), async () => {
      const holders = await options.holders.hold(hold);
      try {
        // Also when others hold it: an assignment removed outside the bot comes back.
        if (!(await assignmentExists(options, target))) await createAssignment(options, target);
      } catch (error) {
        await options.holders.release(request.requestId);
        throw error;
      }
      options.logger?.info(
        { requestId: request.requestId, accountId: request.accountId, permissionSet: set.name, holders },
        'identity center assignment held',
      );
    });
    return { roleArn: set.arn, roleName: set.name, delivery: this.delivery(hold, request.expiresAt) };
  }

  private delivery(hold: AssignmentHold, expiresAt: Date): Delivery {
    return portalDelivery({
      accessPortalUrl: this.options.accessPortalUrl,
      instanceRegion: this.options.instanceRegion,
      region: this.options.region,
      accountId: hold.accountId,
      templateName: hold.templateName,
      permissionSetArn: hold.permissionSetArn,
      permissionSetName: hold.permissionSetName,
      expiresAt,
    });
  }

  roleName(requestId: string): string {
    return `the Identity Center assignment of request ${requestId}`;
  }

  /**
   * Ends request `requestId`'s hold. The assignment itself is deleted only when no other request
   * holds it; then the set denies the user's sessions in the account issued before now.
   * Idempotent: a request that holds nothing is `{ removed: false }`.
   */
  async revoke(_accountId: string, requestId: string): Promise<{ removed: boolean; what: string }> {
    const { options } = this;
    const hold = await options.holders.holdOf(requestId);
    if (!hold) return { removed: false, what: `request ${requestId}'s Identity Center assignment` };
    const revokedAt = options.clock.now();
    const target = {
      accountId: hold.accountId,
      permissionSetArn: hold.permissionSetArn,
      principalId: hold.principalId,
    };
    const outcome = await options.holders.withLock(this.assignmentLock(hold), async () => {
      const released = await options.holders.release(requestId);
      if (!released) return 'not-held' as const;
      if (released.remaining > 0) return 'kept' as const;
      const template = options.templates.template(hold.templateName);
      try {
        // Written before the assignment goes: if the deletion or the policy update fails, the
        // next attempt (or reconcile) still knows which sessions to end.
        await options.holders.addSessionDeny(hold.permissionSetArn, {
          accountId: hold.accountId,
          userName: hold.userName,
          issuedBefore: revokedAt,
          until: revokedAt + (template ? sessionSeconds(template) : 43_200) * 1000 + 60_000,
        });
        if (await assignmentExists(options, target)) await deleteAssignment(options, target);
      } catch (error) {
        await options.holders.hold(hold);
        throw error;
      }
      return 'deleted' as const;
    });
    const what = `request ${requestId}'s hold on the assignment of ${hold.permissionSetName} to ${hold.userName}${
      outcome === 'deleted'
        ? ' (the assignment with it)'
        : outcome === 'kept'
          ? ' (another request still holds it)'
          : ''
    }`;
    if (outcome === 'not-held') return { removed: false, what };
    options.logger?.info(
      { requestId, accountId: hold.accountId, permissionSet: hold.permissionSetName, outcome },
      'identity center hold released',
    );
    if (outcome === 'deleted') {
      const template = options.templates.template(hold.templateName);
      if (template) await refreshSessionDenies(options, template);
      // Sessions issued before the revoke keep working until the deny is provisioned: this is
      // the window that remains (docs/aws-grants.md), logged so operators can watch it.
      options.logger?.info(
        { requestId, accountId: hold.accountId, sessionDenyAfterMs: options.clock.now() - revokedAt },
        'identity center sessions denied',
      );
    }
    return { removed: true, what };
  }

  /** An assignment has no end date in AWS: the revoke job (and reconcile) end it. */
  async extend(): Promise<void> {}

  async refreshDelivery(accountId: string, requestId: string, _requester: Requester): Promise<Delivery> {
    const hold = await this.options.holders.holdOf(requestId);
    if (!hold)
      throw new AppError(
        ErrorCode.NotFound,
        `request ${requestId} holds no Identity Center assignment in ${accountId}`,
      );
    return this.delivery(hold, new Date(this.options.clock.now()));
  }

  private ownedSets(): Promise<OwnedPermissionSet[]> {
    const now = this.options.clock.now();
    if (!this.ownedCache || now - this.ownedCache.at > OWNED_SETS_TTL_MS) {
      const sets = ownedPermissionSets(this.options);
      this.ownedCache = { at: now, sets };
      sets.catch(() => (this.ownedCache = undefined));
    }
    return this.ownedCache.sets;
  }

  /**
   * Assignments of the bot's sets in `accountId` against the holders: an assignment no request
   * holds is `foreign` (removed and reported), a holder whose request is not active is
   * `orphaned`, an active one past its end `overdue`, an active grant without its assignment
   * `missing`. `activeGrants` holds this backend's active grants in the account.
   */
  async reconcile(accountId: string, activeGrants: ReadonlyMap<string, Date>): Promise<ReconcileReport> {
    const { options } = this;
    const now = options.clock.now();
    const report: ReconcileReport = { orphaned: [], overdue: [], missing: [], foreign: [] };
    const present = new Set<string>();
    for (const set of await this.ownedSets()) {
      for (const a of await listAssignments(options, accountId, set.arn)) {
        const principalType = a.PrincipalType ?? 'USER';
        const principalId = a.PrincipalId ?? '';
        const holders =
          principalType === 'USER' ? await options.holders.holdersOf(accountId, set.arn, principalId) : [];
        if (holders.length === 0) {
          report.foreign!.push({
            accountId,
            roleName: set.name,
            assignment: { permissionSetArn: set.arn, principalType, principalId },
          });
          continue;
        }
        for (const h of holders) {
          const entry: ManagedRole = { accountId, roleName: set.name, requestId: h.requestId };
          const end = activeGrants.get(h.requestId);
          if (!end) report.orphaned.push(entry);
          else {
            present.add(h.requestId);
            if (end.getTime() <= now) report.overdue.push({ ...entry, expiresAt: end });
          }
        }
      }
    }
    report.missing = [...activeGrants.keys()].filter((id) => !present.has(id)).sort();
    // Session denies past their sessions' end are dropped from the sets (and applied, should a
    // revoke have failed after writing one): once per minute, not once per account of a run.
    if (now - this.deniesRefreshedAt > OWNED_SETS_TTL_MS) {
      this.deniesRefreshedAt = now;
      for (const set of await this.ownedSets()) {
        const template = options.templates.template(set.templateName);
        if (template) await refreshSessionDenies(options, template);
      }
    }
    return report;
  }

  /** Removes an assignment of a bot-owned set that no request holds (checked again under its lock). */
  async removeForeignRole(accountId: string, role: ManagedRole): Promise<{ removed: boolean }> {
    const assignment = role.assignment;
    if (!assignment) return { removed: false };
    const target = {
      accountId,
      permissionSetArn: assignment.permissionSetArn,
      principalId: assignment.principalId,
      principalType: assignment.principalType === 'GROUP' ? ('GROUP' as const) : ('USER' as const),
    };
    return this.options.holders.withLock(this.assignmentLock(target), async () => {
      if (target.principalType === 'USER') {
        const holders = await this.options.holders.holdersOf(
          accountId,
          target.permissionSetArn,
          target.principalId,
        );
        if (holders.length) return { removed: false };
      }
      if (!(await assignmentExists(this.options, target))) return { removed: false };
      await deleteAssignment(this.options, target);
      return { removed: true };
    });
  }
}
