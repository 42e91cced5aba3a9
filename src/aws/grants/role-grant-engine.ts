/**
 * The grant engine: one IAM role per approved request, scoped by the template's boundary and
 * ended by IAM itself at the grant's end (see docs/aws-grants.md and DESIGN "How access is
 * granted"). The role is created with its boundary, trust and tags, then gets its deny
 * statements (expiry, conditions) before any allow; a failure after CreateRole removes the role
 * again before anyone is told, and a role that cannot be removed is a GrantRollbackError.
 *
 * This class only binds the options to the pieces in this folder: role-lifecycle.ts (create,
 * revoke, extend), boundary-policies.ts, delivery.ts and inventory.ts (reconcile).
 */
import type { IAMClient } from '@aws-sdk/client-iam';
import type {
  Delivery,
  GrantEngine,
  GrantRequest,
  GrantResult,
  ManagedRole,
  ReconcileReport,
  Requester,
} from '../../domain/ports.js';
import type { BoundaryTemplate } from '../../templates/boundary-template.js';
import { roleNameFor } from '../../templates/grant-policies.js';
import { ensureBoundary } from './boundary-policies.js';
import { refreshDelivery } from './delivery.js';
import type { RoleGrantEngineOptions } from './grant-options.js';
import { boundaryArn, revokedBoundaryArn, roleArn } from './grant-names.js';
import { reconcileAccount } from './inventory.js';
import { createGrantRole, extendGrantRole, removeForeignRole, revokeGrantRole } from './role-lifecycle.js';

export { canonicalJson } from './boundary-writer.js';
export type { RoleGrantEngineOptions } from './grant-options.js';

export class RoleGrantEngine implements GrantEngine {
  constructor(private readonly options: RoleGrantEngineOptions) {}

  roleName(requestId: string): string {
    return roleNameFor(requestId);
  }

  roleArn(accountId: string, requestId: string): string {
    return roleArn(this.options, accountId, requestId);
  }

  boundaryArn(accountId: string, templateName: string): string {
    return boundaryArn(this.options, accountId, templateName);
  }

  /** The StackSet's deny-all boundary: the first thing a role being removed gets. */
  revokedBoundaryArn(accountId: string): string {
    return revokedBoundaryArn(this.options, accountId);
  }

  grant(request: GrantRequest): Promise<GrantResult> {
    return createGrantRole(this.options, request);
  }

  revoke(accountId: string, requestId: string): Promise<{ removed: boolean }> {
    return revokeGrantRole(this.options, accountId, requestId);
  }

  removeForeignRole(accountId: string, role: ManagedRole): Promise<{ removed: boolean }> {
    return removeForeignRole(this.options, accountId, role);
  }

  extend(accountId: string, requestId: string, expiresAt: Date): Promise<void> {
    return extendGrantRole(this.options, accountId, requestId, expiresAt);
  }

  refreshDelivery(accountId: string, requestId: string, requester: Requester): Promise<Delivery> {
    return refreshDelivery(this.options, accountId, requestId, requester);
  }

  reconcile(accountId: string, activeGrants: ReadonlyMap<string, Date>): Promise<ReconcileReport> {
    return reconcileAccount(this.options, accountId, activeGrants);
  }

  /**
   * Ensures `/aws-access/boundary-<T>` holds the template's boundary as rendered for the
   * account, through `iam` (the boundary writer's session; see boundary-writer.ts).
   */
  ensureBoundary(iam: IAMClient, accountId: string, template: BoundaryTemplate): Promise<string> {
    return ensureBoundary(this.options, iam, accountId, template);
  }
}
