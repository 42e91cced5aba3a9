/**
 * The posture checks that read the shape of IAM entities: where policies are attached, inline
 * policies, unused roles and policies, wildcard policies and open trusts. Admin equivalence
 * (`admin-equivalent.ts`) and drift of the bot's roles (`access-role-drift.ts`) live apart.
 */
import { POSTURE_ROLE_PATH } from './paths.js';
import { asList, conditionKeys, isAllow, statementsOf, type Statement } from './statements.js';
import type { AuthorizationDetails, IamRole, PostureFinding, PostureSettings } from './types.js';

const DAY_MS = 86_400_000;

/** Roles AWS services own (`/aws-service-role/`): AWS manages their policies and use. */
export function isServiceLinked(role: Pick<IamRole, 'path'>): boolean {
  return role.path.startsWith('/aws-service-role/');
}

/** The bot's own grant roles and boundaries: judged by `access-role-drift` only. */
export function isBotManaged(entity: { path: string }): boolean {
  return entity.path.startsWith(POSTURE_ROLE_PATH);
}

function names(list: Array<{ name: string }>): string {
  return list.map((p) => p.name).join(', ');
}

export function placementFindings(details: AuthorizationDetails): PostureFinding[] {
  const { accountId } = details;
  const out: PostureFinding[] = [];
  for (const user of details.users) {
    if (user.attachedPolicies.length > 0) {
      out.push({
        id: `user-direct-policy:${user.arn}`,
        kind: 'user-direct-policy',
        accountId,
        arn: user.arn,
        detail: `user ${user.name} has managed policies attached directly: ${names(user.attachedPolicies)}`,
      });
    }
    if (user.inlinePolicies.length > 0) {
      out.push({
        id: `user-inline-policy:${user.arn}`,
        kind: 'user-inline-policy',
        accountId,
        arn: user.arn,
        detail: `user ${user.name} has inline policies: ${names(user.inlinePolicies)}`,
      });
    }
  }
  for (const group of details.groups) {
    if (group.inlinePolicies.length > 0) {
      out.push({
        id: `inline-policy:${group.arn}`,
        kind: 'inline-policy',
        accountId,
        arn: group.arn,
        detail: `group ${group.name} has inline policies: ${names(group.inlinePolicies)}`,
      });
    }
  }
  for (const role of details.roles) {
    if (role.inlinePolicies.length === 0 || isServiceLinked(role) || isBotManaged(role)) continue;
    out.push({
      id: `inline-policy:${role.arn}`,
      kind: 'inline-policy',
      accountId,
      arn: role.arn,
      detail: `role ${role.name} has inline policies: ${names(role.inlinePolicies)}`,
    });
  }
  return out;
}

export function unusedFindings(
  details: AuthorizationDetails,
  settings: Pick<PostureSettings, 'unusedRoleDays'>,
  now: Date,
): PostureFinding[] {
  const { accountId } = details;
  const out: PostureFinding[] = [];
  const limit = settings.unusedRoleDays * DAY_MS;
  for (const role of details.roles) {
    if (isServiceLinked(role) || isBotManaged(role)) continue;
    const since = role.lastUsedAt ?? role.createdAt;
    if (!since || now.getTime() - since.getTime() < limit) continue;
    const days = Math.floor((now.getTime() - since.getTime()) / DAY_MS);
    out.push({
      id: `unused-role:${role.arn}`,
      kind: 'unused-role',
      accountId,
      arn: role.arn,
      detail: role.lastUsedAt
        ? `role ${role.name} not used for ${days} days`
        : `role ${role.name} never used, created ${days} days ago`,
    });
  }
  for (const policy of details.policies) {
    if (policy.awsManaged || isBotManaged(policy)) continue;
    if (policy.attachmentCount > 0 || policy.boundaryUsageCount > 0) continue;
    out.push({
      id: `unused-policy:${policy.arn}`,
      kind: 'unused-policy',
      accountId,
      arn: policy.arn,
      detail: `customer-managed policy ${policy.name} is attached to nothing`,
    });
  }
  return out;
}

const SERVICE_WILDCARD = /^[a-z0-9-]+:\*$/;

/** The wildcard actions an Allow statement grants on every resource, e.g. `*` or `s3:*`. */
function wildcardActions(statement: Statement): string[] {
  if (!isAllow(statement) || !asList(statement.Resource).includes('*')) return [];
  return asList(statement.Action).filter((a) => a === '*' || SERVICE_WILDCARD.test(a));
}

export function wildcardFindings(details: AuthorizationDetails): PostureFinding[] {
  const out: PostureFinding[] = [];
  for (const policy of details.policies) {
    if (policy.awsManaged || isBotManaged(policy)) continue;
    const actions = [...new Set(statementsOf(policy.document).flatMap(wildcardActions))];
    if (actions.length === 0) continue;
    out.push({
      id: `wildcard-policy:${policy.arn}`,
      kind: 'wildcard-policy',
      accountId: details.accountId,
      arn: policy.arn,
      detail: `customer-managed policy ${policy.name} allows ${actions.join(', ')} on Resource *`,
    });
  }
  return out;
}

/**
 * Condition keys that tie a cross-account trust to a known party: the confused-deputy guard
 * (`sts:ExternalId`), the organization, or a named principal, account or source.
 */
export const TRUST_GUARD_KEYS = [
  'sts:externalid',
  'aws:principalorgid',
  'aws:principalorgpaths',
  'aws:principalaccount',
  'aws:principalarn',
  'aws:sourceaccount',
  'aws:sourcearn',
  'aws:sourceorgid',
  'aws:sourceorgpaths',
];

/** The AWS principals of a trust statement; `*` for `Principal: "*"`. */
function awsPrincipals(statement: Statement): string[] {
  const principal = statement.Principal;
  if (principal === '*') return ['*'];
  if (!principal || typeof principal !== 'object') return [];
  return asList((principal as { AWS?: unknown }).AWS);
}

/** The account a principal (`123456789012`, an ARN, or `*`) belongs to. */
function accountOf(principal: string): string {
  if (/^\d{12}$/.test(principal)) return principal;
  return /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/.exec(principal)?.[1] ?? '*';
}

export function openTrustFindings(
  details: AuthorizationDetails,
  settings: Pick<PostureSettings, 'trustedAccounts'>,
): PostureFinding[] {
  const trusted = new Set([details.accountId, ...settings.trustedAccounts]);
  const out: PostureFinding[] = [];
  for (const role of details.roles) {
    if (isServiceLinked(role) || isBotManaged(role)) continue;
    const open = new Set<string>();
    for (const statement of statementsOf(role.trustPolicy)) {
      if (!isAllow(statement)) continue;
      const keys = conditionKeys(statement);
      if (TRUST_GUARD_KEYS.some((k) => keys.has(k))) continue;
      for (const principal of awsPrincipals(statement)) {
        const account = accountOf(principal);
        if (account === '*') open.add('everyone (*)');
        else if (!trusted.has(account)) open.add(`account ${account}`);
      }
    }
    if (open.size === 0) continue;
    out.push({
      id: `open-trust:${role.arn}`,
      kind: 'open-trust',
      accountId: details.accountId,
      arn: role.arn,
      detail: `role ${role.name} trusts ${[...open].join(', ')} without an ExternalId or organization condition`,
    });
  }
  return out;
}
