import { describe, expect, it } from 'vitest';
import { iamPolicySimulator } from '../../../src/aws/policy-simulator.js';
import { reviewPosture } from '../../../src/domain/posture/evaluate.js';
import type {
  AuthorizationDetails,
  IamRole,
  IamUser,
  PostureSettings,
} from '../../../src/domain/posture/types.js';

const A = '111111111111';
const doc = (...Statement: object[]) => ({ Version: '2012-10-17', Statement });
const settings: PostureSettings = { unusedRoleDays: 90, trustedAccounts: [], exemptions: [] };
const NOW = new Date('2030-06-01T00:00:00Z');

function user(name: string, inline: object[] = []): IamUser {
  return {
    name,
    arn: `arn:aws:iam::${A}:user/${name}`,
    path: '/',
    tags: {},
    groups: [],
    inlinePolicies: inline.map((document, i) => ({ name: `p${i}`, document })),
    attachedPolicies: [],
  };
}

function role(name: string, trust: object, extra: Partial<IamRole> = {}): IamRole {
  return {
    name,
    arn: `arn:aws:iam::${A}:role/${name}`,
    path: '/',
    tags: {},
    trustPolicy: trust,
    inlinePolicies: [],
    attachedPolicies: [],
    lastUsedAt: NOW,
    ...extra,
  };
}

const details = (d: Partial<AuthorizationDetails>): AuthorizationDetails => ({
  accountId: A,
  users: [],
  groups: [],
  roles: [],
  policies: [],
  ...d,
});

async function kinds(d: AuthorizationDetails, s: PostureSettings = settings) {
  const review = await reviewPosture(d, {
    settings: s,
    now: NOW,
    accessRoles: new Map(),
    simulator: iamPolicySimulator(),
  });
  return review.findings.map((f) => `${f.kind} ${f.arn.split(':').pop()}`).sort();
}

describe('admin-equivalent through the policy simulator', () => {
  it('sees admin through NotAction, which no string match on "*" would', async () => {
    const found = await kinds(
      details({ users: [user('sly', [doc({ Effect: 'Allow', NotAction: 's3:GetObject', Resource: '*' })])] }),
    );
    expect(found).toContain('admin-equivalent user/sly');
  });

  it('an explicit Deny on iam:* leaves Allow * short of admin', async () => {
    const found = await kinds(
      details({
        users: [
          user('denied', [
            doc(
              { Effect: 'Allow', Action: '*', Resource: '*' },
              { Effect: 'Deny', Action: ['iam:*', 'organizations:*'], Resource: '*' },
            ),
          ]),
        ],
      }),
    );
    expect(found).not.toContain('admin-equivalent user/denied');
  });

  it('a permissions boundary caps what a role with Allow * may do', async () => {
    const boundaryArn = `arn:aws:iam::${A}:policy/s3-only`;
    const r = role(
      'bounded',
      doc({ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }),
      {
        inlinePolicies: [{ name: 'all', document: doc({ Effect: 'Allow', Action: '*', Resource: '*' }) }],
        permissionsBoundaryArn: boundaryArn,
      },
    );
    const policy = {
      name: 's3-only',
      arn: boundaryArn,
      path: '/',
      awsManaged: false,
      attachmentCount: 0,
      boundaryUsageCount: 1,
      document: doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }),
    };
    const found = await kinds(details({ roles: [r], policies: [policy] }));
    expect(found).toEqual(['inline-policy role/bounded']);
  });

  it('finds self-escalation: a user who may attach policies to itself', async () => {
    const self = `arn:aws:iam::${A}:user/climber`;
    const found = await kinds(
      details({
        users: [user('climber', [doc({ Effect: 'Allow', Action: 'iam:AttachUserPolicy', Resource: self })])],
      }),
    );
    expect(found).toContain('admin-equivalent user/climber');
  });

  it('answers shared between principals with the same policies still respect ${aws:username}', async () => {
    const selfService = doc({
      Effect: 'Allow',
      Action: 'iam:PutUserPolicy',
      Resource: `arn:aws:iam::${A}:user/\${aws:username}`,
    });
    const scoped = doc({
      Effect: 'Allow',
      Action: 'iam:PutUserPolicy',
      Resource: `arn:aws:iam::${A}:user/ann`,
    });
    const found = await kinds(
      details({
        users: [
          user('ann', [selfService]),
          user('bea', [selfService]),
          user('cat', [scoped]),
          user('ann2', [scoped]),
        ],
      }),
    );
    expect(found.filter((f) => f.startsWith('admin-equivalent'))).toEqual([
      'admin-equivalent user/ann',
      'admin-equivalent user/bea',
    ]);
  });

  it('minting keys for other users is an escalation; for oneself it is not', async () => {
    const found = await kinds(
      details({
        users: [
          user('minter', [
            doc({ Effect: 'Allow', Action: 'iam:CreateAccessKey', Resource: `arn:aws:iam::${A}:user/*` }),
          ]),
          user('rotator', [
            doc({
              Effect: 'Allow',
              Action: 'iam:CreateAccessKey',
              Resource: `arn:aws:iam::${A}:user/rotator`,
            }),
          ]),
        ],
      }),
    );
    expect(found).toContain('admin-equivalent user/minter');
    expect(found).not.toContain('admin-equivalent user/rotator');
  });

  it('admin that needs MFA (or a source IP) is still admin; a condition on who the caller is still counts', async () => {
    const allowAll = (Condition?: object) =>
      doc({ Effect: 'Allow', Action: '*', Resource: '*', ...(Condition ? { Condition } : {}) });
    const found = await kinds(
      details({
        users: [
          user('mfa-admin', [allowAll({ Bool: { 'aws:MultiFactorAuthPresent': 'true' } })]),
          user('office-admin', [allowAll({ IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } })]),
          user('deny-without-mfa', [
            allowAll(),
            doc({
              Effect: 'Deny',
              Action: '*',
              Resource: '*',
              Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } },
            }),
          ]),
          user('someone-else', [
            allowAll({ StringEquals: { 'aws:PrincipalArn': `arn:aws:iam::${A}:user/x` } }),
          ]),
          user('not-me', [allowAll({ StringEquals: { 'aws:username': 'x' } })]),
        ],
      }),
    );
    expect(found.filter((f) => f.startsWith('admin-equivalent'))).toEqual([
      'admin-equivalent user/deny-without-mfa',
      'admin-equivalent user/mfa-admin',
      'admin-equivalent user/office-admin',
    ]);
  });
});

describe('open-trust', () => {
  const trust = (statement: object) => doc({ Effect: 'Allow', Action: 'sts:AssumeRole', ...statement });
  it('flags Principal "*" and foreign accounts; accepts org, ExternalId, services and trusted accounts', async () => {
    const roles = [
      role('everyone', trust({ Principal: '*' })),
      role('foreign', trust({ Principal: { AWS: '222222222222' } })),
      role(
        'org',
        trust({ Principal: { AWS: '*' }, Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abc' } } }),
      ),
      role(
        'external',
        trust({
          Principal: { AWS: 'arn:aws:iam::222222222222:root' },
          Condition: { StringEquals: { 'sts:ExternalId': 'x' } },
        }),
      ),
      role('service', trust({ Principal: { Service: 'lambda.amazonaws.com' } })),
      role('partner', trust({ Principal: { AWS: 'arn:aws:iam::333333333333:role/ci' } })),
    ];
    const found = await kinds(details({ roles }), { ...settings, trustedAccounts: ['333333333333'] });
    expect(found).toEqual(['open-trust role/everyone', 'open-trust role/foreign']);
  });
});

describe('wildcard-policy, unused roles and exemptions', () => {
  const managed = (name: string, document: object, attachmentCount = 1) => ({
    name,
    arn: `arn:aws:iam::${A}:policy/${name}`,
    path: '/',
    awsManaged: false,
    attachmentCount,
    boundaryUsageCount: 0,
    document,
  });

  it('only Action * or service:* on Resource * is a wildcard policy', async () => {
    const found = await kinds(
      details({
        policies: [
          managed('star', doc({ Effect: 'Allow', Action: ['s3:GetObject', '*'], Resource: '*' })),
          managed('ec2', doc({ Effect: 'Allow', Action: 'ec2:*', Resource: ['*'] })),
          managed('gets', doc({ Effect: 'Allow', Action: 's3:Get*', Resource: '*' })),
          managed('scoped', doc({ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::b/*' })),
          managed('deny', doc({ Effect: 'Deny', Action: '*', Resource: '*' })),
        ],
      }),
    );
    expect(found).toEqual(['wildcard-policy policy/ec2', 'wildcard-policy policy/star']);
  });

  it('a service-linked role is never unused; a role is unused from unusedRoleDays', async () => {
    const trust = doc({
      Effect: 'Allow',
      Principal: { Service: 'ec2.amazonaws.com' },
      Action: 'sts:AssumeRole',
    });
    const day = 86_400_000;
    const found = await kinds(
      details({
        roles: [
          role('AWSServiceRoleForX', trust, {
            path: '/aws-service-role/x/',
            lastUsedAt: undefined,
            createdAt: new Date(0),
          }),
          role('old', trust, { lastUsedAt: new Date(NOW.getTime() - 90 * day) }),
          role('recent', trust, { lastUsedAt: new Date(NOW.getTime() - 89 * day) }),
        ],
      }),
    );
    expect(found).toEqual(['unused-role role/old']);
  });

  it('an exemption covers only its kinds and its ARN pattern', async () => {
    const d = details({
      users: [
        { ...user('ci-bot', [doc({ Effect: 'Allow', Action: '*', Resource: '*' })]) },
        { ...user('ci-other', [doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' })]) },
      ],
    });
    const found = await kinds(d, {
      ...settings,
      exemptions: [{ arn: 'arn:aws:iam::*:user/ci-b?t', kinds: ['admin-equivalent'], reason: 'pipeline' }],
    });
    expect(found).toEqual(['user-inline-policy user/ci-bot', 'user-inline-policy user/ci-other']);
  });
});
