/**
 * What a template's permission set holds (identity-center backend), as pure functions: its name
 * (`aws-access-<template>` within Identity Center's 32 characters), the inline policy (the
 * template's inline policy, its source-IP/region denies, and the session denies of revoked
 * grants), its AWS- and customer-managed policies, the template's boundary as a customer-managed
 * permissions boundary, a session duration no longer than the template allows, and a hash of
 * all of it that the set carries as a tag, so the bot rewrites a set only when it changed.
 */
import { createHash } from 'node:crypto';
import type { BoundaryTemplate } from '../../templates/boundary-template.js';
import {
  boundaryPolicyName,
  conditionsPolicy,
  MANAGED_BY,
  ROLE_NAME_PREFIX,
  ROLE_PATH,
} from '../../templates/grant-policies.js';
import type { PolicyDocument, PolicyStatement } from '../../templates/policy-document.js';
import { renderVariables } from '../../templates/policy-variables.js';
import type { SessionDeny } from '../../store/assignment-holders.js';
import { canonicalJson } from '../grants/boundary-writer.js';

/** Identity Center's limit on a permission set name. */
export const PERMISSION_SET_NAME_MAX = 32;
/** Identity Center's limits on a permission set's session duration (ISO 8601 PT1H … PT12H). */
const MIN_SESSION_SECONDS = 3600;
const MAX_SESSION_SECONDS = 43_200;

export const PERMISSION_SET_TAG = {
  managedBy: 'managed-by',
  template: 'aws-access:template',
  contentHash: 'aws-access:content-hash',
} as const;

export { MANAGED_BY };

/**
 * `aws-access-<template>`, or, for a template name too long for 32 characters, as much of it
 * as fits and a hash of the whole name, so two long names never share a set.
 */
export function permissionSetName(templateName: string): string {
  const full = `${ROLE_NAME_PREFIX}${templateName}`;
  if (full.length <= PERMISSION_SET_NAME_MAX) return full;
  const hash = createHash('sha256').update(templateName).digest('hex').slice(0, 6);
  const room = PERMISSION_SET_NAME_MAX - ROLE_NAME_PREFIX.length - hash.length - 1;
  return `${ROLE_NAME_PREFIX}${templateName.slice(0, room)}-${hash}`;
}

/** ISO 8601 duration: the template's maximum, within Identity Center's 1 h – 12 h. */
export function sessionDurationFor(template: Pick<BoundaryTemplate, 'maxDurationSeconds'>): string {
  const seconds = Math.min(MAX_SESSION_SECONDS, Math.max(MIN_SESSION_SECONDS, template.maxDurationSeconds));
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return `PT${hours}H${minutes ? `${minutes}M` : ''}`;
}

/** Seconds of a `sessionDurationFor` value. */
export function sessionSeconds(template: Pick<BoundaryTemplate, 'maxDurationSeconds'>): number {
  return Math.min(MAX_SESSION_SECONDS, Math.max(MIN_SESSION_SECONDS, template.maxDurationSeconds));
}

export interface CustomerManagedPolicy {
  Name: string;
  Path: string;
}

export interface PermissionSetContent {
  name: string;
  description: string;
  sessionDuration: string;
  /** Undefined when there is nothing to put inline (then any inline policy is deleted). */
  inlinePolicy?: PolicyDocument;
  awsManagedPolicyArns: string[];
  customerManagedPolicies: CustomerManagedPolicy[];
  boundary: CustomerManagedPolicy;
  hash: string;
}

export interface ContentOptions {
  partition: string;
  region: string;
  brokerRoleName: string;
}

/**
 * Splits an IAM policy ARN (`arn:<partition>:iam::<account>:policy/<path…>/<name>`) by its
 * fixed `:` and `/` separators: AWS-managed when the account field is `aws`, else a reference to
 * a customer-managed policy of that name and path, which must exist in each target account.
 */
export function classifyManagedPolicy(arn: string): { aws: string } | { customer: CustomerManagedPolicy } {
  const fields = arn.split(':');
  const account = fields[4] ?? '';
  const resource = fields.slice(5).join(':');
  if (account === 'aws') return { aws: arn };
  const parts = resource.split('/').slice(1);
  const name = parts.pop() ?? '';
  return { customer: { Name: name, Path: parts.length ? `/${parts.join('/')}/` : '/' } };
}

/**
 * A literal for IAM's `StringLike`: `*`, `?` and `$` (which would start a policy variable) in
 * their escaped forms `${*}`, `${?}` and `${$}`. Identity Center user names may hold them (a
 * name synced from an IdP such as `*`), and unescaped they would match other users' sessions.
 */
export function likeLiteral(value: string): string {
  return value.replace(/[*?$]/g, (c) => `\${${c}}`);
}

/**
 * One Deny per revoked user and account: their `AWSReservedSSO_…` role sessions (whose
 * `aws:userid` ends in `:<user name>`) in that account, issued before the revoke, can do nothing.
 */
export function sessionDenyStatements(denies: readonly SessionDeny[]): PolicyStatement[] {
  return denies.map((deny, i) => ({
    Sid: `AwsAccessRevokedSessions${i}`,
    Effect: 'Deny',
    Action: '*',
    Resource: '*',
    Condition: {
      StringLike: { 'aws:userid': `*:${likeLiteral(deny.userName)}` },
      StringEquals: { 'aws:PrincipalAccount': deny.accountId },
      DateLessThan: { 'aws:TokenIssueTime': new Date(deny.issuedBefore).toISOString() },
    },
  }));
}

/**
 * The set for `template`. One set serves every account, so `${account_id}` becomes IAM's own
 * `${aws:PrincipalAccount}` (the session's account); per-grant variables are refused by
 * `validate` for templates this backend may grant.
 */
export function permissionSetContent(
  template: BoundaryTemplate,
  denies: readonly SessionDeny[],
  options: ContentOptions,
): PermissionSetContent {
  const values = {
    account_id: '${aws:PrincipalAccount}',
    partition: options.partition,
    region: options.region,
    template: template.name,
    broker_role_name: options.brokerRoleName,
  };
  const statements: PolicyStatement[] = [
    ...sessionDenyStatements(denies),
    ...(conditionsPolicy(template.conditions)?.Statement ?? []),
    ...(template.inlinePolicy ? renderVariables(template.inlinePolicy, values).Statement : []),
  ];
  const awsManagedPolicyArns: string[] = [];
  const customerManagedPolicies: CustomerManagedPolicy[] = [];
  for (const raw of template.managedPolicyArns) {
    const policy = classifyManagedPolicy(renderVariables(raw, { ...values, account_id: '000000000000' }));
    if ('aws' in policy) awsManagedPolicyArns.push(policy.aws);
    else customerManagedPolicies.push(policy.customer);
  }
  const body = {
    name: permissionSetName(template.name),
    description: `aws-access template ${template.name}`.slice(0, 700),
    sessionDuration: sessionDurationFor(template),
    ...(statements.length ? { inlinePolicy: { Version: '2012-10-17' as const, Statement: statements } } : {}),
    awsManagedPolicyArns: awsManagedPolicyArns.sort(),
    customerManagedPolicies: customerManagedPolicies.sort((a, b) =>
      `${a.Path}${a.Name}`.localeCompare(`${b.Path}${b.Name}`),
    ),
    boundary: { Name: boundaryPolicyName(template.name), Path: ROLE_PATH },
  };
  const hash = createHash('sha256').update(canonicalJson(body)).digest('hex').slice(0, 32);
  return { ...body, hash };
}
