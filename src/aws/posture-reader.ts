/**
 * Reads one account's IAM for the posture review with GetAccountAuthorizationDetails, every
 * filter at once (users, groups, roles, customer- and AWS-managed policies), 1,000 entities a
 * page: the number of IAM calls grows with entities / 1,000, never one call per user or role.
 * Policy documents arrive URL-encoded (RFC 3986) and are parsed here.
 */
import {
  GetAccountAuthorizationDetailsCommand,
  type GetAccountAuthorizationDetailsCommandOutput,
  type IAMClient,
  type Tag,
} from '@aws-sdk/client-iam';
import type {
  AttachedPolicy,
  AuthorizationDetails,
  InlinePolicy,
  ManagedPolicy,
} from '../domain/posture/types.js';
import type { PostureReader } from '../domain/posture/review-account.js';
import type { AccountClients } from './account-clients.js';
import { awsCall } from './aws-errors.js';
import { AUTH_DETAILS_PAGE_SIZE } from './hygiene-reader.js';

export const POSTURE_FILTERS = ['User', 'Group', 'Role', 'LocalManagedPolicy', 'AWSManagedPolicy'] as const;

/** A policy document as GetAccountAuthorizationDetails returns it (URL-encoded JSON). */
export function parsePolicyDocument(raw: string | undefined): unknown {
  if (!raw) return undefined;
  const text = raw.trimStart().startsWith('{') ? raw : decodeURIComponent(raw);
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function tags(list: Tag[] | undefined): Record<string, string> {
  return Object.fromEntries(
    (list ?? []).filter((t) => t.Key && t.Value !== undefined).map((t) => [t.Key!, t.Value!]),
  );
}

function inline(list: Array<{ PolicyName?: string; PolicyDocument?: string }> | undefined): InlinePolicy[] {
  return (list ?? []).map((p) => ({
    name: p.PolicyName ?? '',
    document: parsePolicyDocument(p.PolicyDocument),
  }));
}

function attached(list: Array<{ PolicyName?: string; PolicyArn?: string }> | undefined): AttachedPolicy[] {
  return (list ?? [])
    .filter((p) => p.PolicyArn)
    .map((p) => ({ name: p.PolicyName ?? '', arn: p.PolicyArn! }));
}

/** Folds the pages of one read into the domain's details. */
export function authorizationDetailsFrom(
  accountId: string,
  pages: GetAccountAuthorizationDetailsCommandOutput[],
): AuthorizationDetails {
  const details: AuthorizationDetails = { accountId, users: [], groups: [], roles: [], policies: [] };
  for (const page of pages) {
    for (const u of page.UserDetailList ?? []) {
      details.users.push({
        name: u.UserName ?? '',
        arn: u.Arn ?? '',
        path: u.Path ?? '/',
        createdAt: u.CreateDate,
        tags: tags(u.Tags),
        groups: u.GroupList ?? [],
        inlinePolicies: inline(u.UserPolicyList),
        attachedPolicies: attached(u.AttachedManagedPolicies),
        permissionsBoundaryArn: u.PermissionsBoundary?.PermissionsBoundaryArn,
      });
    }
    for (const g of page.GroupDetailList ?? []) {
      details.groups.push({
        name: g.GroupName ?? '',
        arn: g.Arn ?? '',
        path: g.Path ?? '/',
        createdAt: g.CreateDate,
        inlinePolicies: inline(g.GroupPolicyList),
        attachedPolicies: attached(g.AttachedManagedPolicies),
      });
    }
    for (const r of page.RoleDetailList ?? []) {
      details.roles.push({
        name: r.RoleName ?? '',
        arn: r.Arn ?? '',
        path: r.Path ?? '/',
        createdAt: r.CreateDate,
        lastUsedAt: r.RoleLastUsed?.LastUsedDate,
        tags: tags(r.Tags),
        trustPolicy: parsePolicyDocument(r.AssumeRolePolicyDocument),
        inlinePolicies: inline(r.RolePolicyList),
        attachedPolicies: attached(r.AttachedManagedPolicies),
        permissionsBoundaryArn: r.PermissionsBoundary?.PermissionsBoundaryArn,
      });
    }
    for (const p of page.Policies ?? []) {
      const version =
        p.PolicyVersionList?.find((v) => v.IsDefaultVersion) ??
        p.PolicyVersionList?.find((v) => v.VersionId === p.DefaultVersionId);
      const policy: ManagedPolicy = {
        name: p.PolicyName ?? '',
        arn: p.Arn ?? '',
        path: p.Path ?? '/',
        awsManaged: /^arn:aws[a-z-]*:iam::aws:policy\//.test(p.Arn ?? ''),
        attachmentCount: p.AttachmentCount ?? 0,
        boundaryUsageCount: p.PermissionsBoundaryUsageCount ?? 0,
        document: parsePolicyDocument(version?.Document),
      };
      details.policies.push(policy);
    }
  }
  return details;
}

export async function readAuthorizationDetails(
  iam: IAMClient,
  accountId: string,
  filters: ReadonlyArray<(typeof POSTURE_FILTERS)[number]> = POSTURE_FILTERS,
): Promise<AuthorizationDetails> {
  const pages: GetAccountAuthorizationDetailsCommandOutput[] = [];
  let marker: string | undefined;
  await awsCall(`reading IAM authorization details of ${accountId}`, async () => {
    do {
      const page = await iam.send(
        new GetAccountAuthorizationDetailsCommand({
          Filter: [...filters],
          MaxItems: AUTH_DETAILS_PAGE_SIZE,
          Marker: marker,
        }),
      );
      pages.push(page);
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
  });
  return authorizationDetailsFrom(accountId, pages);
}

/** The posture review's reader on the broker session of each account. */
export function awsPostureReader(accounts: AccountClients): PostureReader {
  return {
    read: async (accountId) => readAuthorizationDetails(await accounts.iam(accountId), accountId),
    // Drift needs the roles alone (their attached policy ARNs are in the role details).
    readRoles: async (accountId) =>
      (await readAuthorizationDetails(await accounts.iam(accountId), accountId, ['Role'])).roles,
  };
}
