/**
 * The grant engine the rest of the bot sees: one GrantEngine over the two backends (DESIGN
 * "Grant backends"). A new grant goes where the config says (config/grant-backends.ts: the
 * template's setting, else the account's, else `aws.grantBackend`); everything after the grant
 * (revoke, extend, refresh, reconcile) goes where the grant was made, known from the Identity
 * Center holders in Redis, so changing the config never strands a live grant.
 */
import { grantBackendFor } from '../config/grant-backends.js';
import type { AppConfig } from '../config/schema.js';
import type {
  Delivery,
  GrantEngine,
  GrantRequest,
  GrantResult,
  ManagedRole,
  ReconcileReport,
  Requester,
} from '../domain/ports.js';
import type { AssignmentHolders } from '../store/assignment-holders.js';
import type { IdentityCenterGrantEngine } from './identity-center/identity-center-engine.js';

type Settings = Pick<AppConfig['aws'], 'grantBackend' | 'templateGrantBackends' | 'accounts'>;

export interface GrantBackendsOptions {
  roles: GrantEngine;
  identityCenter?: IdentityCenterGrantEngine;
  holders?: AssignmentHolders;
  settings: Settings;
}

export class GrantBackends implements GrantEngine {
  constructor(private readonly options: GrantBackendsOptions) {}

  /** The engine a new grant of `templateName` in `accountId` goes to. */
  engineFor(accountId: string, templateName: string): GrantEngine {
    const backend = grantBackendFor(this.options.settings, accountId, templateName);
    if (backend === 'identity-center') {
      // The config schema refuses identity-center without aws.identityCenter.
      if (!this.options.identityCenter) throw new Error('identity-center backend chosen but not configured');
      return this.options.identityCenter;
    }
    return this.options.roles;
  }

  /** The engine that made request `requestId`'s grant. */
  private async engineOf(requestId: string): Promise<GrantEngine> {
    const { identityCenter, holders } = this.options;
    if (identityCenter && holders && (await holders.heldBy([requestId])).has(requestId))
      return identityCenter;
    return this.options.roles;
  }

  grant(request: GrantRequest): Promise<GrantResult> {
    return this.engineFor(request.accountId, request.templateName).grant(request);
  }

  async identify(
    accountId: string,
    templateName: string,
    requester: { slackUserId: string; email?: string },
  ): Promise<{ principalArn: string } | { refusal: string } | undefined> {
    return this.engineFor(accountId, templateName).identify?.(accountId, templateName, requester);
  }

  roleName(requestId: string): string {
    return this.options.roles.roleName?.(requestId) ?? requestId;
  }

  async revoke(accountId: string, requestId: string): Promise<{ removed: boolean; what?: string }> {
    return (await this.engineOf(requestId)).revoke(accountId, requestId);
  }

  async extend(accountId: string, requestId: string, expiresAt: Date): Promise<void> {
    return (await this.engineOf(requestId)).extend(accountId, requestId, expiresAt);
  }

  async refreshDelivery(accountId: string, requestId: string, requester: Requester): Promise<Delivery> {
    return (await this.engineOf(requestId)).refreshDelivery(accountId, requestId, requester);
  }

  /** Whether any grant in `accountId` may be a role (the roles are then listed there). */
  private mayHoldRoles(accountId: string): boolean {
    const { settings } = this.options;
    const account = settings.accounts.find((a) => a.id === accountId)?.grantBackend ?? settings.grantBackend;
    return account === 'iam-role' || Object.values(settings.templateGrantBackends).includes('iam-role');
  }

  async reconcile(accountId: string, activeGrants: ReadonlyMap<string, Date>): Promise<ReconcileReport> {
    const { identityCenter, holders, roles } = this.options;
    if (!identityCenter || !holders) return roles.reconcile(accountId, activeGrants);
    const held = await holders.heldBy([...activeGrants.keys()]);
    const icGrants = new Map([...activeGrants].filter(([id]) => held.has(id)));
    const roleGrants = new Map([...activeGrants].filter(([id]) => !held.has(id)));
    const reports: ReconcileReport[] = [await identityCenter.reconcile(accountId, icGrants)];
    if (roleGrants.size > 0 || this.mayHoldRoles(accountId))
      reports.push(await roles.reconcile(accountId, roleGrants));
    return {
      orphaned: reports.flatMap((r) => r.orphaned),
      overdue: reports.flatMap((r) => r.overdue),
      missing: reports.flatMap((r) => r.missing),
      foreign: reports.flatMap((r) => r.foreign ?? []),
      tagMismatches: reports.flatMap((r) => r.tagMismatches ?? []),
    };
  }

  async removeForeignRole(accountId: string, role: ManagedRole): Promise<{ removed: boolean }> {
    const engine = role.assignment ? this.options.identityCenter : this.options.roles;
    return engine?.removeForeignRole ? engine.removeForeignRole(accountId, role) : { removed: false };
  }
}
