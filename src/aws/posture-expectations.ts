/**
 * What the bot wrote on each `/aws-access/` role, for the `access-role-drift` check: rebuilt from
 * the request that holds the role and its template with the grant engine's own names and
 * renderers, so the check and the grant cannot disagree about what a grant looks like.
 */
import type { AccessRequest } from '../domain/access-request.js';
import type { AccessRoleExpectation } from '../domain/posture/types.js';
import type { BoundaryTemplate } from '../templates/boundary-template.js';
import { INLINE, requesterPrincipal, roleNameFor } from '../templates/grant-policies.js';
import { renderVariables } from '../templates/policy-variables.js';
import { accountValues, boundaryArn, brokerRoleArn } from './grants/grant-names.js';

export interface GrantNaming {
  templates: { template(name: string): BoundaryTemplate | undefined };
  partition: string;
  region: string;
  brokerRoleName: string;
}

/**
 * Role name → expectation for the requests of `accountId` that hold a role (active, or being
 * revoked). A request whose template is gone explains its role but with nothing to compare:
 * only its boundary and trust are checked.
 */
export function accessRoleExpectations(
  naming: GrantNaming,
  accountId: string,
  requests: AccessRequest[],
): Map<string, AccessRoleExpectation> {
  const out = new Map<string, AccessRoleExpectation>();
  for (const request of requests) {
    if (request.accountId !== accountId) continue;
    const template = naming.templates.template(request.templateName);
    const values = {
      ...accountValues(naming, accountId, request.templateName),
      principal_arn: request.principalArn,
      request_id: request.id,
      role_name: roleNameFor(request.id),
    };
    let principal = request.principalArn;
    try {
      principal = requesterPrincipal(request).principal;
    } catch {
      // An unpinnable principal never got a role; keep the ARN so any trust is compared to it.
    }
    out.set(roleNameFor(request.id), {
      managedPolicyArns: (template?.managedPolicyArns ?? []).map((arn) => renderVariables(arn, values)),
      inlinePolicyNames: Object.values(INLINE),
      boundaryArn: boundaryArn(naming, accountId, request.templateName),
      trustedPrincipals: [principal, brokerRoleArn(naming, accountId)],
    });
  }
  return out;
}
