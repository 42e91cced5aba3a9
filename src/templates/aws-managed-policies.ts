/**
 * Action-level models of common AWS managed policies, for access summaries only (IAM evaluates
 * the real policy). iam-data has no managed-policy contents, and fetching them would need AWS
 * credentials at validation time; these approximations follow each policy's published intent.
 */
import { expandActionPattern, type IamActionCatalog } from './iam-action-catalog.js';

function byLevel(catalog: IamActionCatalog, levels: string[]): Set<string> {
  const out = new Set<string>();
  for (const [key, action] of catalog.actions) if (levels.includes(action.level)) out.add(key);
  return out;
}

function patterns(catalog: IamActionCatalog, list: string[]): Set<string> {
  const out = new Set<string>();
  for (const p of list) {
    const r = expandActionPattern(catalog, p);
    if ('keys' in r) r.keys.forEach((k) => out.add(k));
  }
  return out;
}

const MODELS: Record<string, (catalog: IamActionCatalog) => Set<string>> = {
  AdministratorAccess: (c) => new Set(c.actions.keys()),
  // Everything but IAM, Organizations and Account, plus the few IAM/Org reads it allows.
  PowerUserAccess: (c) => {
    const out = new Set<string>();
    for (const [key, action] of c.actions) {
      if (!['iam', 'organizations', 'account'].includes(action.service)) out.add(key);
    }
    patterns(c, [
      'iam:CreateServiceLinkedRole',
      'iam:DeleteServiceLinkedRole',
      'iam:ListRoles',
      'organizations:DescribeOrganization',
      'account:ListRegions',
      'account:GetAccountInformation',
    ]).forEach((k) => out.add(k));
    return out;
  },
  ReadOnlyAccess: (c) => byLevel(c, ['List', 'Read']),
  ViewOnlyAccess: (c) => byLevel(c, ['List']),
  AmazonS3ReadOnlyAccess: (c) =>
    patterns(c, ['s3:Get*', 's3:List*', 's3:Describe*', 's3-object-lambda:Get*', 's3-object-lambda:List*']),
};

/** The modelled actions of an AWS managed policy ARN, or undefined when it is not modelled. */
export function modelManagedPolicy(catalog: IamActionCatalog, arn: string): Set<string> | undefined {
  const match = /^arn:[^:]+:iam::aws:policy\/(?:.*\/)?([^/]+)$/.exec(arn);
  const model = match ? MODELS[match[1]!] : undefined;
  return model?.(catalog);
}
