/**
 * What a grant of a shipped template may do, through the @cloud-copilot/iam-simulate evaluator,
 * with the documents the grant engine puts on the role, rendered by the same functions:
 *   identity = the template's managed policies + its inline policy + `expiry` + `conditions`,
 *   boundary = the rendered boundary (guard included),
 * so effective = identity ∩ boundary − denies.
 *
 * AWS managed policies are not available offline. AdministratorAccess and PowerUserAccess are
 * small and written out below as AWS publishes them. ReadOnlyAccess (thousands of actions) is
 * stood in for by Allow * — an upper bound: a request denied here is denied with the real
 * policy too, and the reads the readonly tests expect allowed (Describe*, List*, Get*) are in
 * the real policy.
 */
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import type { BoundaryTemplateCatalog } from '../../../src/templates/load-templates.js';
import {
  conditionsPolicy,
  expiryPolicy,
  renderBoundary,
  renderInline,
} from '../../../src/templates/grant-policies.js';
import type { VariableValues } from '../../../src/templates/policy-variables.js';

export const ACCOUNT = '111111111111';
export const REGION = 'us-east-1';
export const ROLE = `arn:aws:iam::${ACCOUNT}:role/aws-access/aws-access-req-1`;
const GRANT_END = new Date('2030-01-01T12:00:00Z');
const DURING_GRANT = '2030-01-01T11:00:00Z';

const MANAGED_POLICIES: Record<string, unknown> = {
  AdministratorAccess: {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
  },
  PowerUserAccess: {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', NotAction: ['iam:*', 'organizations:*', 'account:*'], Resource: '*' },
      {
        Effect: 'Allow',
        Action: [
          'account:GetAccountInformation',
          'account:GetPrimaryEmail',
          'account:ListRegions',
          'iam:CreateServiceLinkedRole',
          'iam:DeleteServiceLinkedRole',
          'iam:ListRoles',
          'organizations:DescribeOrganization',
        ],
        Resource: '*',
      },
    ],
  },
  ReadOnlyAccess: {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
  },
};

function variables(template: string): VariableValues {
  return {
    account_id: ACCOUNT,
    partition: 'aws',
    region: REGION,
    template,
    broker_role_name: 'aws-access-broker',
    requester: 'alice@example.com',
    requester_email: 'alice@example.com',
    slack_user_id: 'U0123456789',
    principal_arn: `arn:aws:iam::${ACCOUNT}:user/alice`,
    request_id: 'req-1',
    role_name: 'aws-access-req-1',
    starts_at: '2030-01-01T10:00:00.000Z',
    expires_at: GRANT_END.toISOString(),
  };
}

/** The identity policies and boundary a grant of `name` gets, as the grant engine renders them. */
export function grantDocuments(catalog: BoundaryTemplateCatalog, name: string) {
  const template = catalog.template(name);
  if (!template) throw new Error(`no template ${name}`);
  const values = variables(name);
  const identity: unknown[] = template.managedPolicyArns.map((arn) => {
    const policyName = /:policy\/(?:.*\/)?([^/]+)$/.exec(arn)?.[1] ?? arn;
    const policy = MANAGED_POLICIES[policyName];
    if (!policy) throw new Error(`${name}: no stand-in for managed policy ${arn}`);
    return policy;
  });
  const inline = renderInline(template, values);
  if (inline) identity.push(inline);
  identity.push(expiryPolicy(GRANT_END));
  const conditions = conditionsPolicy(template.conditions);
  if (conditions) identity.push(conditions);
  return { identity, boundary: renderBoundary(template, values) };
}

/** KMS only honours identity policies when the key policy says so; this is AWS's default one. */
function defaultKeyPolicy(resource: string) {
  const account = resource.split(':')[4] || ACCOUNT;
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'EnableIamPolicies',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${account}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  };
}

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

/** The simulator's overall answer for one request by a grant of `template`, during the grant. */
export async function decideGrant(
  catalog: BoundaryTemplateCatalog,
  template: string,
  action: string,
  resource = '*',
  context: Record<string, string | string[]> = {},
): Promise<Decision> {
  const { identity, boundary } = grantDocuments(catalog, template);
  const simulation: Simulation = {
    request: {
      principal: ROLE,
      action,
      resource: { resource, accountId: resource.split(':')[4] || ACCOUNT },
      contextVariables: { 'aws:CurrentTime': DURING_GRANT, ...context },
    },
    identityPolicies: identity.map((policy, i) => ({ name: `identity-${i}`, policy })),
    permissionBoundaryPolicies: [{ name: 'boundary', policy: boundary }],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(/^arn:aws:kms:[^:]*:\d+:key\//.test(resource) ? { resourcePolicy: defaultKeyPolicy(resource) } : {}),
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error')
    throw new Error(`${action} ${resource}: ${JSON.stringify(result.errors)}`);
  return result.overallResult as Decision;
}
