/**
 * `access-role-drift`: a role under `/aws-access/` that no active request explains, or whose
 * managed policies, inline policy names, permissions boundary or trusted principals differ from
 * what the bot wrote for its request. Found by the daily sweep and on every reconcile.
 */
import { isBotManaged } from './checks.js';
import { asList, isAllow, statementsOf } from './statements.js';
import type { AccessRoleExpectation, IamRole, PostureFinding } from './types.js';

function trustPrincipals(trust: unknown): string[] {
  const out: string[] = [];
  for (const statement of statementsOf(trust)) {
    if (!isAllow(statement)) continue;
    const principal = statement.Principal;
    if (principal === '*') out.push('*');
    else if (principal && typeof principal === 'object') {
      for (const [type, value] of Object.entries(principal))
        for (const p of asList(value)) out.push(type === 'AWS' ? p : `${type}:${p}`);
    }
  }
  return out;
}

/** The differences between a role and what the bot wrote, in words; empty when none. */
export function roleDifferences(role: IamRole, expected: AccessRoleExpectation): string[] {
  const diffs: string[] = [];
  const attached = new Set(role.attachedPolicies.map((p) => p.arn));
  const wanted = new Set(expected.managedPolicyArns);
  const extraManaged = [...attached].filter((a) => !wanted.has(a));
  const missingManaged = [...wanted].filter((a) => !attached.has(a));
  if (extraManaged.length > 0) diffs.push(`managed policies added: ${extraManaged.join(', ')}`);
  if (missingManaged.length > 0) diffs.push(`managed policies removed: ${missingManaged.join(', ')}`);
  const allowedInline = new Set(expected.inlinePolicyNames);
  const extraInline = role.inlinePolicies.map((p) => p.name).filter((n) => !allowedInline.has(n));
  if (extraInline.length > 0) diffs.push(`inline policies added: ${extraInline.join(', ')}`);
  if (role.permissionsBoundaryArn !== expected.boundaryArn)
    diffs.push(`boundary is ${role.permissionsBoundaryArn ?? 'missing'} instead of ${expected.boundaryArn}`);
  const trusted = new Set(expected.trustedPrincipals);
  const extraTrust = trustPrincipals(role.trustPolicy).filter((p) => !trusted.has(p));
  if (extraTrust.length > 0) diffs.push(`trust policy also trusts ${extraTrust.join(', ')}`);
  return diffs;
}

export function accessRoleDriftFindings(
  accountId: string,
  roles: IamRole[],
  expectations: ReadonlyMap<string, AccessRoleExpectation>,
): PostureFinding[] {
  const out: PostureFinding[] = [];
  for (const role of roles) {
    if (!isBotManaged(role)) continue;
    const expected = expectations.get(role.name);
    const diffs = expected ? roleDifferences(role, expected) : ['no active request explains it'];
    if (diffs.length === 0) continue;
    out.push({
      id: `access-role-drift:${role.arn}`,
      kind: 'access-role-drift',
      accountId,
      arn: role.arn,
      detail: `role ${role.name} (${role.path}): ${diffs.join('; ')}`,
    });
  }
  return out;
}
