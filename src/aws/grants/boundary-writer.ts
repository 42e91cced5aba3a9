/**
 * Boundary policies `/aws-access/boundary-<T>`, written in their own session: the
 * `aws-access-boundary-writer` role (deploy/aws/broker-role.yaml) may create and version those
 * policies and nothing else, and the broker, which creates grant roles, may write no policy at
 * all. So the session that mints roles cannot also define the ceiling they run under.
 *
 * Versions: a new default version when the canonical (key-sorted) JSON differs from the default
 * version; the oldest non-default versions are deleted first so at most 5 exist (IAM's limit).
 */
import {
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  DeletePolicyVersionCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  type IAMClient,
  ListPolicyVersionsCommand,
} from '@aws-sdk/client-iam';
import type { PolicyDocument } from '../../templates/policy-document.js';
import { allIamPages } from '../aws-clients.js';
import { isAwsError } from '../aws-errors.js';

/** At most this many versions of a managed policy exist at once (AWS limit). */
const MAX_POLICY_VERSIONS = 5;

/** Recursively key-sorted JSON, so two renderings of one policy compare equal. */
export function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v as object)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(sort(value));
}

export interface BoundaryPolicy {
  arn: string;
  name: string;
  path: string;
  document: PolicyDocument;
  description: string;
  tags: Array<{ Key: string; Value: string }>;
}

/** Creates the policy, or a new default version when its content changed. True when IAM changed. */
export async function writeBoundaryPolicy(iam: IAMClient, policy: BoundaryPolicy): Promise<boolean> {
  const wanted = canonicalJson(policy.document);
  let defaultVersion: string | undefined;
  try {
    const existing = await iam.send(new GetPolicyCommand({ PolicyArn: policy.arn }));
    defaultVersion = existing.Policy?.DefaultVersionId;
  } catch (error) {
    if (!isAwsError(error, 'NoSuchEntity')) throw error;
    try {
      await iam.send(
        new CreatePolicyCommand({
          PolicyName: policy.name,
          Path: policy.path,
          PolicyDocument: JSON.stringify(policy.document),
          Description: policy.description,
          Tags: policy.tags,
        }),
      );
      return true;
    } catch (createError) {
      // Another grant created it meanwhile: compare with what it wrote.
      if (!isAwsError(createError, 'EntityAlreadyExists')) throw createError;
      defaultVersion = (await iam.send(new GetPolicyCommand({ PolicyArn: policy.arn }))).Policy
        ?.DefaultVersionId;
    }
  }
  if (defaultVersion) {
    const version = await iam.send(
      new GetPolicyVersionCommand({ PolicyArn: policy.arn, VersionId: defaultVersion }),
    );
    const current = version.PolicyVersion?.Document;
    if (current && canonicalJson(JSON.parse(decodeURIComponent(current))) === wanted) return false;
  }
  const versions = await allIamPages(
    (Marker) => iam.send(new ListPolicyVersionsCommand({ PolicyArn: policy.arn, Marker })),
    (page) => page.Versions,
  );
  if (versions.length >= MAX_POLICY_VERSIONS) {
    const oldest = versions
      .filter((v) => !v.IsDefaultVersion)
      .sort((a, b) => (a.CreateDate?.getTime() ?? 0) - (b.CreateDate?.getTime() ?? 0))
      .slice(0, versions.length - MAX_POLICY_VERSIONS + 1);
    for (const v of oldest) {
      await iam.send(new DeletePolicyVersionCommand({ PolicyArn: policy.arn, VersionId: v.VersionId }));
    }
  }
  await iam.send(
    new CreatePolicyVersionCommand({
      PolicyArn: policy.arn,
      PolicyDocument: JSON.stringify(policy.document),
      SetAsDefault: true,
    }),
  );
  return true;
}
