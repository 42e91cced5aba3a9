/**
 * Policy evaluation, not string matching: each shipped template's boundary, as the grant engine
 * renders it (guard included), goes through the @cloud-copilot/iam-simulate evaluator with an
 * identity policy that allows everything, so the outcome is what the boundary alone permits.
 * moto does not enforce IAM, which is why this lives here and not against moto.
 */
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { beforeAll, describe, expect, it } from 'vitest';
import { expiryPolicy, renderBoundary, revokeSessionsPolicy } from '../../../src/templates/grant-policies.js';
import { loadTemplates, type BoundaryTemplateCatalog } from '../../../src/templates/load-templates.js';
import type { PolicyDocument } from '../../../src/templates/policy-document.js';

const ACCOUNT = '111111111111';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/aws-access/aws-access-req-1`;
const ALLOW_ALL = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

let catalog: BoundaryTemplateCatalog;
beforeAll(async () => {
  catalog = await loadTemplates('templates');
});

function boundaryOf(name: string): PolicyDocument {
  return renderBoundary(catalog.template(name)!, {
    account_id: ACCOUNT,
    partition: 'aws',
    region: 'us-east-1',
    template: name,
    broker_role_name: 'aws-access-broker',
  });
}

async function decide(
  template: string,
  action: string,
  resource = '*',
  options: { identity?: unknown[]; context?: Record<string, string | string[]> } = {},
): Promise<string> {
  const simulation: Simulation = {
    request: {
      principal: ROLE,
      action,
      resource: { resource, accountId: ACCOUNT },
      contextVariables: options.context ?? {},
    },
    identityPolicies: [ALLOW_ALL, ...(options.identity ?? [])].map((policy, i) => ({
      name: `p${i}`,
      policy,
    })),
    permissionBoundaryPolicies: [{ name: 'boundary', policy: boundaryOf(template) }],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
  return result.overallResult;
}

const S3_OBJECT = 'arn:aws:s3:::bucket/key.txt';
const USER = `arn:aws:iam::${ACCOUNT}:user/mallory`;
const OWN_ROLE = ROLE;
const BROKER = `arn:aws:iam::${ACCOUNT}:role/aws-access-broker`;
const OTHER_ROLE = `arn:aws:iam::${ACCOUNT}:role/app/service-role`;
const BOUNDARY_POLICY = `arn:aws:iam::${ACCOUNT}:policy/aws-access/boundary-developer`;

describe('what each shipped boundary allows and denies', () => {
  it('readonly reads configuration but cannot read data or secrets, nor create users', async () => {
    expect(await decide('readonly', 'ec2:DescribeInstances')).toBe('Allowed');
    expect(await decide('readonly', 's3:ListAllMyBuckets')).toBe('Allowed');
    expect(await decide('readonly', 'iam:GetRole', OTHER_ROLE)).toBe('Allowed');
    expect(await decide('readonly', 's3:GetObject', S3_OBJECT)).toBe('ExplicitlyDenied');
    expect(
      await decide(
        'readonly',
        'secretsmanager:GetSecretValue',
        `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:db-AbCdEf`,
      ),
    ).toBe('ExplicitlyDenied');
    expect(
      await decide('readonly', 'ssm:GetParameter', `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/db/password`),
    ).toBe('ExplicitlyDenied');
    expect(
      await decide(
        'readonly',
        'kms:Decrypt',
        `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
      ),
    ).toBe('ExplicitlyDenied');
    expect(await decide('readonly', 'iam:CreateUser', USER)).not.toBe('Allowed');
    expect(
      await decide(
        'readonly',
        'ec2:TerminateInstances',
        `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0123456789abcdef0`,
      ),
    ).not.toBe('Allowed');
  });

  it('s3-data-reader reads objects but cannot write or delete them', async () => {
    expect(await decide('s3-data-reader', 's3:GetObject', S3_OBJECT)).toBe('Allowed');
    expect(await decide('s3-data-reader', 's3:ListBucket', 'arn:aws:s3:::bucket')).toBe('Allowed');
    expect(await decide('s3-data-reader', 's3:PutObject', S3_OBJECT)).not.toBe('Allowed');
    expect(await decide('s3-data-reader', 's3:DeleteObject', S3_OBJECT)).not.toBe('Allowed');
    expect(await decide('s3-data-reader', 'ec2:DescribeInstances')).not.toBe('Allowed');
  });

  it('developer builds and runs workloads but cannot touch IAM, Organizations or the account', async () => {
    expect(await decide('developer', 'ec2:RunInstances', `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/*`)).toBe(
      'Allowed',
    );
    expect(
      await decide('developer', 'lambda:CreateFunction', `arn:aws:lambda:us-east-1:${ACCOUNT}:function:app`),
    ).toBe('Allowed');
    expect(await decide('developer', 's3:PutObject', S3_OBJECT)).toBe('Allowed');
    expect(await decide('developer', 'iam:CreateUser', USER)).toBe('ExplicitlyDenied');
    expect(await decide('developer', 'iam:CreateRole', OTHER_ROLE)).toBe('ExplicitlyDenied');
    expect(await decide('developer', 'iam:PassRole', OTHER_ROLE)).toBe('ExplicitlyDenied');
    expect(await decide('developer', 'iam:ListRoles')).toBe('ExplicitlyDenied');
    expect(await decide('developer', 'organizations:ListAccounts')).toBe('ExplicitlyDenied');
    expect(await decide('developer', 'organizations:LeaveOrganization')).toBe('ExplicitlyDenied');
    expect(
      await decide('developer', 'account:PutAlternateContact', `arn:aws:account::${ACCOUNT}:account`),
    ).toBe('ExplicitlyDenied');
    expect(
      await decide(
        'developer',
        'cloudtrail:StopLogging',
        `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/main`,
      ),
    ).toBe('ExplicitlyDenied');
  });

  it('admin-breakglass administers everything but cannot stop CloudTrail or GuardDuty, create users, nor touch /aws-access/', async () => {
    expect(await decide('admin-breakglass', 'iam:DeleteAccessKey', USER)).toBe('Allowed');
    expect(await decide('admin-breakglass', 'iam:PassRole', OTHER_ROLE)).toBe('Allowed');
    // No lasting credentials (persistence-simulation.spec.ts has the full list).
    expect(await decide('admin-breakglass', 'iam:CreateUser', USER)).toBe('ExplicitlyDenied');
    expect(
      await decide(
        'admin-breakglass',
        'ec2:TerminateInstances',
        `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0123456789abcdef0`,
      ),
    ).toBe('Allowed');
    expect(
      await decide(
        'admin-breakglass',
        'cloudtrail:StopLogging',
        `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/main`,
      ),
    ).toBe('ExplicitlyDenied');
    expect(
      await decide(
        'admin-breakglass',
        'cloudtrail:DeleteTrail',
        `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/main`,
      ),
    ).toBe('ExplicitlyDenied');
    expect(
      await decide(
        'admin-breakglass',
        'guardduty:DeleteDetector',
        `arn:aws:guardduty:us-east-1:${ACCOUNT}:detector/12abc34d567e8fa901bc2d34e56789f0`,
      ),
    ).toBe('ExplicitlyDenied');
    // The bot's own roles and policies, the holder's own role included, and the broker.
    expect(await decide('admin-breakglass', 'iam:DeleteRolePermissionsBoundary', OWN_ROLE)).toBe(
      'ExplicitlyDenied',
    );
    expect(await decide('admin-breakglass', 'iam:DeleteRolePolicy', OWN_ROLE)).toBe('ExplicitlyDenied');
    expect(
      await decide(
        'admin-breakglass',
        'iam:UpdateAssumeRolePolicy',
        `arn:aws:iam::${ACCOUNT}:role/aws-access/aws-access-req-2`,
      ),
    ).toBe('ExplicitlyDenied');
    expect(await decide('admin-breakglass', 'iam:CreatePolicyVersion', BOUNDARY_POLICY)).toBe(
      'ExplicitlyDenied',
    );
    expect(await decide('admin-breakglass', 'iam:UpdateAssumeRolePolicy', BROKER)).toBe('ExplicitlyDenied');
    expect(await decide('admin-breakglass', 'iam:AttachRolePolicy', BROKER)).toBe('ExplicitlyDenied');
    expect(await decide('admin-breakglass', 'sts:AssumeRole', BROKER)).toBe('ExplicitlyDenied');
    // Reading them is fine.
    expect(await decide('admin-breakglass', 'iam:GetRole', OWN_ROLE)).toBe('Allowed');
  });

  it.each(['readonly', 's3-data-reader', 'developer', 'admin-breakglass'])(
    '%s: nobody may loosen their own grant or change the broker',
    async (template) => {
      for (const [action, resource] of [
        ['iam:PutRolePermissionsBoundary', OWN_ROLE],
        ['iam:DeleteRolePolicy', OWN_ROLE],
        ['iam:UpdateAssumeRolePolicy', OWN_ROLE],
        ['iam:TagRole', OWN_ROLE],
        ['iam:DeleteRole', BROKER],
        ['iam:CreatePolicyVersion', BOUNDARY_POLICY],
      ] as const) {
        expect(await decide(template, action, resource), `${template} ${action}`).toBe('ExplicitlyDenied');
      }
    },
  );
});

describe('the expiry and revocation policies', () => {
  it('deny everything once aws:CurrentTime passes the grant end', async () => {
    const end = new Date('2030-01-01T12:00:00Z');
    const identity = [expiryPolicy(end)];
    expect(
      await decide('admin-breakglass', 'ec2:DescribeInstances', '*', {
        identity,
        context: { 'aws:CurrentTime': '2030-01-01T11:59:00Z' },
      }),
    ).toBe('Allowed');
    expect(
      await decide('admin-breakglass', 'ec2:DescribeInstances', '*', {
        identity,
        context: { 'aws:CurrentTime': '2030-01-01T12:00:01Z' },
      }),
    ).toBe('ExplicitlyDenied');
  });

  it('deny sessions issued before the revocation', async () => {
    const identity = [revokeSessionsPolicy(new Date('2030-01-01T12:00:00Z'))];
    expect(
      await decide('admin-breakglass', 'ec2:DescribeInstances', '*', {
        identity,
        context: { 'aws:TokenIssueTime': '2030-01-01T11:00:00Z' },
      }),
    ).toBe('ExplicitlyDenied');
  });
});
