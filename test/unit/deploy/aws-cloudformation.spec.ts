import { readdirSync, readFileSync } from 'node:fs';
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { CfnResolver, policyDocument, readCfnTemplate, type CfnTemplate } from './support/cloudformation.js';
import {
  actionMatches,
  allowedActionPatterns,
  findAwsActions,
  scanAwsActions,
} from './support/aws-actions.js';
import { repoPath } from './support/paths.js';
import { loadTemplates } from '../../../src/templates/load-templates.js';
import { renderVariables } from '../../../src/templates/policy-variables.js';

const MEMBER = '111111111111';
const BOT_ACCOUNT = '999999999999';
const BOT_ROLE = `arn:aws:iam::${BOT_ACCOUNT}:role/aws-access-bot`;
const BROKER = `arn:aws:iam::${MEMBER}:role/aws-access-broker`;
const BOUNDARY = `arn:aws:iam::${MEMBER}:policy/aws-access/boundary-readonly`;
const GRANT_ROLE = `arn:aws:iam::${MEMBER}:role/aws-access/aws-access-r-8f2k1`;
const REVOKED = `arn:aws:iam::${MEMBER}:policy/aws-access/aws-access-revoked`;
const WRITER = `arn:aws:iam::${MEMBER}:role/aws-access-boundary-writer`;
const READ_ONLY_ACCESS = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
const ADMIN_ACCESS = 'arn:aws:iam::aws:policy/AdministratorAccess';

const brokerTemplate = readCfnTemplate(repoPath('deploy/aws/broker-role.yaml'));
const botTemplate = readCfnTemplate(repoPath('deploy/aws/bot-identity.yaml'));

function broker(parameters: Record<string, string> = {}) {
  const resolver = new CfnResolver(brokerTemplate, {
    accountId: MEMBER,
    parameters: { BotAccountId: BOT_ACCOUNT, BotPrincipalArn: BOT_ROLE, ...parameters },
  });
  const role = resolver.resource('BrokerRole')!;
  const policies = (role.Policies as Array<{ PolicyName: string; PolicyDocument: unknown }>).map((p) => ({
    name: p.PolicyName,
    policy: p.PolicyDocument,
  }));
  const writerRole = resolver.resource('BoundaryWriterRole')!;
  const writerPolicies = (writerRole.Policies as Array<{ PolicyName: string; PolicyDocument: unknown }>).map(
    (p) => ({ name: p.PolicyName, policy: p.PolicyDocument }),
  );
  return {
    role,
    policies,
    trust: policyDocument(role.AssumeRolePolicyDocument),
    writerRole,
    writerPolicies,
    writerTrust: policyDocument(writerRole.AssumeRolePolicyDocument),
    revokedBoundary: resolver.resource('RevokedBoundary')!,
  };
}

function botIdentity(parameters: Record<string, string> = {}) {
  const resolver = new CfnResolver(botTemplate, { accountId: BOT_ACCOUNT, parameters });
  const policy = resolver.resource('BotPolicy')!;
  return { resolver, policy: policyDocument(policy.PolicyDocument) };
}

type Request = Simulation['request'];

async function decide(
  identityPolicies: Simulation['identityPolicies'],
  request: Omit<Request, 'resource'> & { resource: string; resourceAccount?: string },
  resourcePolicy?: unknown,
): Promise<string> {
  const result = await runSimulation(
    {
      request: {
        ...request,
        resource: { resource: request.resource, accountId: request.resourceAccount ?? MEMBER },
      },
      identityPolicies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy ? { resourcePolicy } : {}),
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors, null, 2));
  return result.overallResult;
}

/** Decision for the broker (same account) calling `action` on `resource`. */
function asBroker(
  action: string,
  resource: string,
  contextVariables: Record<string, string | string[]> = {},
) {
  return decide(broker().policies, { principal: BROKER, action, resource, contextVariables });
}

const withBoundary = (arn = BOUNDARY) => ({ 'iam:PermissionsBoundary': arn });
const attaching = (policyArn: string, boundary = BOUNDARY) => ({
  'iam:PermissionsBoundary': boundary,
  'iam:PolicyARN': policyArn,
});

/** Decision for the boundary writer (same account) calling `action` on `resource`. */
function asWriter(action: string, resource: string, parameters: Record<string, string> = {}) {
  return decide(broker(parameters).writerPolicies, {
    principal: WRITER,
    action,
    resource,
    contextVariables: {},
  });
}

describe('deploy/aws/broker-role.yaml', () => {
  it('lets the broker create a role under /aws-access/ with one of its boundaries', async () => {
    expect(await asBroker('iam:CreateRole', GRANT_ROLE, withBoundary())).toBe('Allowed');
    expect(await asBroker('iam:TagRole', GRANT_ROLE)).toBe('Allowed');
  });

  it('denies creating a role without a permissions boundary', async () => {
    expect(await asBroker('iam:CreateRole', GRANT_ROLE)).toBe('ExplicitlyDenied');
  });

  it('denies creating a role with a boundary that is not one of the bot boundaries', async () => {
    for (const boundary of [
      'arn:aws:iam::aws:policy/AdministratorAccess',
      `arn:aws:iam::${MEMBER}:policy/boundary-readonly`,
      `arn:aws:iam::${MEMBER}:policy/aws-access/not-a-boundary`,
      `arn:aws:iam::222222222222:policy/aws-access/boundary-readonly`,
    ]) {
      expect(await asBroker('iam:CreateRole', GRANT_ROLE, withBoundary(boundary)), boundary).toBe(
        'ExplicitlyDenied',
      );
    }
  });

  it('denies creating a role outside /aws-access/ or not named aws-access-*, even with a boundary', async () => {
    for (const role of [
      `arn:aws:iam::${MEMBER}:role/aws-access-r-8f2k1`,
      `arn:aws:iam::${MEMBER}:role/admin/aws-access-r-8f2k1`,
      `arn:aws:iam::${MEMBER}:role/aws-access/Admin`,
      `arn:aws:iam::${MEMBER}:role/OrganizationAccountAccessRole`,
    ]) {
      expect(await asBroker('iam:CreateRole', role, withBoundary()), role).not.toBe('Allowed');
    }
  });

  it('adds permissions only to roles that carry a bot boundary', async () => {
    for (const [action, context] of [
      ['iam:PutRolePolicy', withBoundary()],
      ['iam:AttachRolePolicy', attaching(READ_ONLY_ACCESS)],
    ] as const) {
      expect(await asBroker(action, GRANT_ROLE, context), action).toBe('Allowed');
      expect(await asBroker(action, GRANT_ROLE), `${action} without boundary`).not.toBe('Allowed');
      expect(await asBroker(action, `arn:aws:iam::${MEMBER}:role/ProdDeploy`, context), action).not.toBe(
        'Allowed',
      );
    }
  });

  it('can never delete a boundary policy or remove a role boundary, and may only set the deny-all one', async () => {
    expect(await asBroker('iam:DeletePolicy', BOUNDARY)).toBe('ExplicitlyDenied');
    expect(await asBroker('iam:DeleteRolePermissionsBoundary', GRANT_ROLE, withBoundary())).toBe(
      'ExplicitlyDenied',
    );
    expect(await asBroker('iam:PutRolePermissionsBoundary', GRANT_ROLE)).toBe('ExplicitlyDenied');
    expect(await asBroker('iam:PutRolePermissionsBoundary', GRANT_ROLE, withBoundary(ADMIN_ACCESS))).toBe(
      'ExplicitlyDenied',
    );
    expect(await asBroker('iam:PutRolePermissionsBoundary', GRANT_ROLE, withBoundary())).toBe(
      'ExplicitlyDenied',
    );
    expect(await asBroker('iam:PutRolePermissionsBoundary', GRANT_ROLE, withBoundary(REVOKED))).toBe(
      'Allowed',
    );
  });

  it('the StackSet deploys the deny-all boundary the broker removes roles with', () => {
    const { revokedBoundary } = broker();
    expect(revokedBoundary.ManagedPolicyName).toBe('aws-access-revoked');
    expect(revokedBoundary.Path).toBe('/aws-access/');
    expect(policyDocument(revokedBoundary.PolicyDocument).Statement).toEqual([
      { Sid: 'RoleBeingRemoved', Effect: 'Deny', Action: '*', Resource: '*' },
    ]);
  });

  it('the broker writes no policy; the boundary writer versions /aws-access/boundary-* and nothing else', async () => {
    for (const action of [
      'iam:CreatePolicy',
      'iam:CreatePolicyVersion',
      'iam:DeletePolicyVersion',
      'iam:SetDefaultPolicyVersion',
      'iam:TagPolicy',
    ]) {
      expect(await asBroker(action, BOUNDARY), action).toBe('ExplicitlyDenied');
    }
    for (const action of [
      'iam:CreatePolicy',
      'iam:CreatePolicyVersion',
      'iam:DeletePolicyVersion',
      'iam:GetPolicyVersion',
    ]) {
      expect(await asWriter(action, BOUNDARY), action).toBe('Allowed');
      expect(await asWriter(action, `arn:aws:iam::${MEMBER}:policy/SecurityAudit`), action).toBe(
        'ImplicitlyDenied',
      );
      expect(
        await asWriter(action, `arn:aws:iam::${MEMBER}:policy/aws-access/boundary-x/boundary-y`),
        `${action} under a sub-path`,
      ).toBe('ExplicitlyDenied');
      expect(await asWriter(action, REVOKED), `${action} on the deny-all boundary`).not.toBe('Allowed');
    }
    expect(await asWriter('iam:SetDefaultPolicyVersion', BOUNDARY)).toBe('ExplicitlyDenied');
    expect(await asWriter('iam:DeletePolicy', BOUNDARY)).toBe('ExplicitlyDenied');
    for (const action of ['iam:CreateRole', 'iam:PutRolePolicy', 'iam:AttachRolePolicy']) {
      expect(await asWriter(action, GRANT_ROLE), action).toBe('ImplicitlyDenied');
    }
  });

  it('the boundary writer trusts only the bot role, like the broker', () => {
    const { trust, writerTrust } = broker();
    expect(writerTrust).toEqual(trust);
  });

  it('removes: trust, policies and the role come off only once the role carries the deny-all boundary', async () => {
    for (const action of [
      'iam:DeleteRole',
      'iam:DeleteRolePolicy',
      'iam:DetachRolePolicy',
      'iam:UpdateAssumeRolePolicy',
    ]) {
      expect(await asBroker(action, GRANT_ROLE, withBoundary(REVOKED)), action).toBe('Allowed');
      expect(await asBroker(action, GRANT_ROLE, withBoundary()), `${action} on a live grant`).toBe(
        'ExplicitlyDenied',
      );
      expect(
        await asBroker(action, `arn:aws:iam::${MEMBER}:role/ProdDeploy`, withBoundary(REVOKED)),
        action,
      ).toBe('ImplicitlyDenied');
    }
    // Reconcile removes whatever it finds under /aws-access/, sub-paths included.
    for (const role of [
      `arn:aws:iam::${MEMBER}:role/aws-access/anything`,
      `arn:aws:iam::${MEMBER}:role/aws-access/x/hidden/aws-access-r-1`,
    ]) {
      expect(await asBroker('iam:PutRolePermissionsBoundary', role, withBoundary(REVOKED)), role).toBe(
        'Allowed',
      );
      expect(await asBroker('iam:DeleteRole', role, withBoundary(REVOKED)), role).toBe('Allowed');
    }
  });

  it('cannot create users, access keys or touch other principals', async () => {
    expect(await asBroker('iam:CreateUser', `arn:aws:iam::${MEMBER}:user/mallory`)).toBe('ImplicitlyDenied');
    expect(await asBroker('iam:CreateAccessKey', `arn:aws:iam::${MEMBER}:user/alice`)).toBe(
      'ImplicitlyDenied',
    );
    expect(await asBroker('iam:PassRole', GRANT_ROLE)).toBe('ImplicitlyDenied');
    expect(await asBroker('iam:UpdateAssumeRolePolicy', BROKER)).not.toBe('Allowed');
    expect(await asBroker('iam:PutRolePolicy', BROKER, withBoundary())).not.toBe('Allowed');
    for (const own of [BROKER, WRITER]) {
      for (const action of ['iam:PutRolePermissionsBoundary', 'iam:DeleteRole', 'iam:AttachRolePolicy']) {
        expect(await asBroker(action, own, attaching(ADMIN_ACCESS, REVOKED)), `${action} ${own}`).toBe(
          'ExplicitlyDenied',
        );
      }
    }
  });

  it('reads what credential hygiene needs, and deactivates keys only when enforce mode is enabled', async () => {
    for (const action of [
      'iam:GenerateCredentialReport',
      'iam:GetCredentialReport',
      'iam:GetAccountSummary',
      'iam:GetAccountPasswordPolicy',
      'iam:ListUsers',
    ]) {
      expect(await asBroker(action, '*'), action).toBe('Allowed');
    }
    expect(await asBroker('iam:ListAccessKeys', `arn:aws:iam::${MEMBER}:user/alice`)).toBe('Allowed');
    const alice = `arn:aws:iam::${MEMBER}:user/alice`;
    expect(await asBroker('iam:UpdateAccessKey', alice)).toBe('ImplicitlyDenied');
    const enforcing = broker({ AllowKeyDeactivation: 'true' }).policies;
    expect(
      await decide(enforcing, {
        principal: BROKER,
        action: 'iam:UpdateAccessKey',
        resource: alice,
        contextVariables: {},
      }),
    ).toBe('Allowed');
  });

  it('may open sessions on grant roles only (credentials mode and the assumability check)', async () => {
    for (const action of ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity']) {
      expect(await asBroker(action, GRANT_ROLE), action).toBe('Allowed');
    }
    expect(
      await asBroker('sts:AssumeRole', `arn:aws:iam::${MEMBER}:role/OrganizationAccountAccessRole`),
    ).toBe('ImplicitlyDenied');
  });

  it('trusts only the bot role, and its external id when one is set', async () => {
    const bot = botIdentity();
    const identity = [{ name: 'bot', policy: bot.policy }];
    const assume = (principal: string, trust: unknown, context: Record<string, string> = {}) =>
      decide(
        identity,
        {
          principal,
          action: 'sts:AssumeRole',
          resource: BROKER,
          contextVariables: { 'aws:PrincipalArn': principal, ...context },
        },
        trust,
      );
    expect(await assume(BOT_ROLE, broker().trust)).toBe('Allowed');
    expect(await assume(`arn:aws:iam::${BOT_ACCOUNT}:role/someone-else`, broker().trust)).not.toBe('Allowed');
    const withExternalId = broker({ ExternalId: 'abc-123' }).trust;
    expect(await assume(BOT_ROLE, withExternalId, { 'sts:ExternalId': 'abc-123' })).toBe('Allowed');
    expect(await assume(BOT_ROLE, withExternalId, { 'sts:ExternalId': 'wrong' })).not.toBe('Allowed');
    expect(await assume(BOT_ROLE, withExternalId)).not.toBe('Allowed');
  });

  it('is StackSet-ready: no account, region or partition written into the template', () => {
    const text = readFileSync(repoPath('deploy/aws/broker-role.yaml'), 'utf8');
    expect(text).not.toMatch(/\b\d{12}\b/);
    expect(text).not.toMatch(/arn:aws:/);
    expect(text).not.toMatch(/\b(us|eu|ap|sa|ca|me|af)-[a-z]+-\d\b/);
    expect(
      Object.keys(brokerTemplate.Resources).every((id) =>
        brokerTemplate.Resources[id]!.Type.startsWith('AWS::IAM::'),
      ),
    ).toBe(true);
    const defaults = brokerTemplate.Parameters!;
    expect(defaults.BrokerRoleName!.Default).toBe('aws-access-broker');
    expect(defaults.ExternalId!.Default).toBe('');
  });
});

describe('finding 6: a compromised broker cannot mint an unbounded grant', () => {
  // Role names hold no '/': both are roles at a sub-path (the first matched aws-access-* before).
  const hiddenRoles = [
    `arn:aws:iam::${MEMBER}:role/aws-access/aws-access-x/hidden/aws-access-r-8f2k1`,
    `arn:aws:iam::${MEMBER}:role/aws-access/x/hidden/aws-access-r-8f2k1`,
  ];
  const anything = `arn:aws:iam::${MEMBER}:policy/aws-access/boundary-anything`;

  it('denies the broker CreatePolicy boundary-anything (and so a role created with it)', async () => {
    expect(await asBroker('iam:CreatePolicy', anything)).toBe('ExplicitlyDenied');
    expect(await asBroker('iam:CreatePolicyVersion', BOUNDARY)).toBe('ExplicitlyDenied');
  });

  it('denies the broker AttachRolePolicy AdministratorAccess', async () => {
    expect(await asBroker('iam:AttachRolePolicy', GRANT_ROLE, attaching(ADMIN_ACCESS))).not.toBe('Allowed');
    expect(
      await asBroker(
        'iam:AttachRolePolicy',
        GRANT_ROLE,
        attaching(`arn:aws:iam::${MEMBER}:policy/aws-access/boundary-admin-breakglass`),
      ),
    ).not.toBe('Allowed');
  });

  it('denies the broker UpdateAssumeRolePolicy on a live grant role', async () => {
    expect(await asBroker('iam:UpdateAssumeRolePolicy', GRANT_ROLE, withBoundary())).toBe('ExplicitlyDenied');
    expect(await asBroker('iam:UpdateAssumeRolePolicy', GRANT_ROLE)).toBe('ExplicitlyDenied');
  });

  it('denies the broker DeleteRolePolicy (the expiry deny) on a live grant role', async () => {
    expect(await asBroker('iam:DeleteRolePolicy', GRANT_ROLE, withBoundary())).toBe('ExplicitlyDenied');
    expect(await asBroker('iam:DetachRolePolicy', GRANT_ROLE, attaching(READ_ONLY_ACCESS))).toBe(
      'ExplicitlyDenied',
    );
  });

  it('denies the broker CreateRole at /aws-access/x/hidden/, and with a boundary under a sub-path', async () => {
    for (const hidden of hiddenRoles) {
      expect(await asBroker('iam:CreateRole', hidden, withBoundary()), hidden).toBe('ExplicitlyDenied');
      for (const action of ['iam:PutRolePolicy', 'iam:TagRole', 'sts:AssumeRole']) {
        expect(await asBroker(action, hidden, withBoundary()), `${action} ${hidden}`).not.toBe('Allowed');
      }
    }
    expect(
      await asBroker(
        'iam:CreateRole',
        GRANT_ROLE,
        withBoundary(`arn:aws:iam::${MEMBER}:policy/aws-access/boundary-x/boundary-y`),
      ),
    ).toBe('ExplicitlyDenied');
  });

  it('allows every call a grant, an extension and a removal make, with the context IAM sees', async () => {
    // grant: CreateRole (tags at creation), denies then allows, the assumability check
    expect(await asBroker('iam:CreateRole', GRANT_ROLE, withBoundary())).toBe('Allowed');
    expect(await asBroker('iam:TagRole', GRANT_ROLE)).toBe('Allowed');
    expect(await asBroker('iam:PutRolePolicy', GRANT_ROLE, withBoundary())).toBe('Allowed');
    expect(await asBroker('iam:AttachRolePolicy', GRANT_ROLE, attaching(READ_ONLY_ACCESS))).toBe('Allowed');
    expect(await asBroker('iam:GetRole', GRANT_ROLE)).toBe('Allowed');
    for (const action of ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity']) {
      expect(await asBroker(action, GRANT_ROLE), action).toBe('Allowed');
    }
    // extend
    expect(await asBroker('iam:UpdateRole', GRANT_ROLE, withBoundary())).toBe('Allowed');
    // removal, in the engine's order
    expect(await asBroker('iam:PutRolePermissionsBoundary', GRANT_ROLE, withBoundary(REVOKED))).toBe(
      'Allowed',
    );
    for (const action of [
      'iam:UpdateAssumeRolePolicy',
      'iam:ListAttachedRolePolicies',
      'iam:ListInstanceProfilesForRole',
      'iam:ListRolePolicies',
      'iam:DeleteRolePolicy',
      'iam:DeleteRole',
    ]) {
      expect(await asBroker(action, GRANT_ROLE, withBoundary(REVOKED)), action).toBe('Allowed');
    }
    expect(await asBroker('iam:DetachRolePolicy', GRANT_ROLE, attaching(READ_ONLY_ACCESS, REVOKED))).toBe(
      'Allowed',
    );
    expect(await asBroker('iam:ListRoles', '*')).toBe('Allowed');
    expect(await asBroker('iam:ListRoleTags', GRANT_ROLE)).toBe('Allowed');
  });

  it("AttachablePolicyArns' default covers the shipped templates' managed policies; break-glass's is an explicit opt-in", async () => {
    const catalog = await loadTemplates(repoPath('templates'));
    const attach = (policyArn: string, parameters: Record<string, string> = {}) =>
      decide(broker(parameters).policies, {
        principal: BROKER,
        action: 'iam:AttachRolePolicy',
        resource: GRANT_ROLE,
        contextVariables: attaching(policyArn),
      });
    const breakGlass: string[] = [];
    for (const template of catalog.templates) {
      for (const arn of template.managedPolicyArns) {
        const rendered = renderVariables(arn, { partition: 'aws', account_id: MEMBER });
        if (template.breakGlass) breakGlass.push(rendered);
        else expect(await attach(rendered), `${template.name}: ${rendered}`).toBe('Allowed');
      }
    }
    expect(breakGlass).toEqual([ADMIN_ACCESS]);
    const withAdmin = {
      AttachablePolicyArns: `${brokerTemplate.Parameters!.AttachablePolicyArns!.Default},arn:*:iam::aws:policy/AdministratorAccess`,
    };
    expect(await attach(ADMIN_ACCESS)).not.toBe('Allowed');
    expect(await attach(ADMIN_ACCESS, withAdmin)).toBe('Allowed');
  });
});

describe('deploy/aws/bot-identity.yaml', () => {
  const { policy } = botIdentity();
  const identity = [{ name: 'bot', policy }];
  const asBot = (action: string, resource: string, resourceAccount = BOT_ACCOUNT) =>
    decide(identity, { principal: BOT_ROLE, action, resource, resourceAccount, contextVariables: {} });

  it('may assume the broker role in any account and no other role', async () => {
    const trustAnyone = (arn: string) => ({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${BOT_ACCOUNT}:root` },
          Action: 'sts:AssumeRole',
          Resource: arn,
        },
      ],
    });
    for (const account of [MEMBER, '222222222222']) {
      const arn = `arn:aws:iam::${account}:role/aws-access-broker`;
      expect(
        await decide(
          identity,
          {
            principal: BOT_ROLE,
            action: 'sts:AssumeRole',
            resource: arn,
            resourceAccount: account,
            contextVariables: {},
          },
          trustAnyone(arn),
        ),
      ).toBe('Allowed');
    }
    const other = `arn:aws:iam::${MEMBER}:role/OrganizationAccountAccessRole`;
    expect(
      await decide(
        identity,
        {
          principal: BOT_ROLE,
          action: 'sts:AssumeRole',
          resource: other,
          resourceAccount: MEMBER,
          contextVariables: {},
        },
        trustAnyone(other),
      ),
    ).not.toBe('Allowed');
  });

  it('reads the organization tree and cannot change it', async () => {
    for (const action of [
      'organizations:ListAccounts',
      'organizations:ListRoots',
      'organizations:DescribeOrganization',
    ]) {
      expect(await asBot(action, '*'), action).toBe('Allowed');
    }
    expect(
      await asBot(
        'organizations:ListParents',
        `arn:aws:organizations::${BOT_ACCOUNT}:account/o-abc123defg/${MEMBER}`,
      ),
    ).toBe('Allowed');
    expect(await asBot('organizations:CreateAccount', '*')).toBe('ImplicitlyDenied');
    expect(await asBot('iam:CreateRole', `arn:aws:iam::${BOT_ACCOUNT}:role/x`)).toBe('ImplicitlyDenied');
  });

  it("creates an IRSA role only for the bot's service account when an OIDC provider is given", () => {
    expect(botIdentity().resolver.resource('BotRole')).toBeUndefined();
    const provider = 'oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
    const role = botIdentity({ OidcProvider: provider }).resolver.resource('BotRole')!;
    const trust = policyDocument(role.AssumeRolePolicyDocument);
    expect(trust.Statement).toEqual([
      {
        Sid: 'BotServiceAccount',
        Effect: 'Allow',
        Principal: { Federated: `arn:aws:iam::${BOT_ACCOUNT}:oidc-provider/${provider}` },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            [`${provider}:sub`]: 'system:serviceaccount:aws-access-bot:aws-access-bot',
            [`${provider}:aud`]: 'sts.amazonaws.com',
          },
        },
      },
    ]);
    expect(role.ManagedPolicyArns).toEqual([`arn:aws:iam::${BOT_ACCOUNT}:policy/aws-access-bot-policy`]);
  });
});

describe('reading the CloudFormation templates', () => {
  it('resolves every reference in both templates', () => {
    const all = (t: CfnTemplate, accountId: string, parameters: Record<string, string>) => {
      const resolver = new CfnResolver(t, { accountId, parameters });
      for (const id of Object.keys(t.Resources)) resolver.resource(id);
      return resolver.resolve(t.Outputs ?? {});
    };
    expect(() =>
      all(brokerTemplate, MEMBER, { BotAccountId: BOT_ACCOUNT, BotPrincipalArn: BOT_ROLE }),
    ).not.toThrow();
    expect(() =>
      all(botTemplate, BOT_ACCOUNT, { OidcProvider: 'oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE' }),
    ).not.toThrow();
  });

  it('rejects parameter values the template does not allow', () => {
    expect(() => broker({ BotAccountId: '12345' })).toThrow(/BotAccountId/);
    expect(() => broker({ AllowKeyDeactivation: 'yes' })).toThrow(/AllowKeyDeactivation/);
  });
});

describe('the AWS policies cover what the code calls', () => {
  const calls = scanAwsActions(repoPath('src'));
  const brokerAllows = broker({ AllowKeyDeactivation: 'true' }).policies.flatMap((p) =>
    allowedActionPatterns(policyDocument(p.policy as never)),
  );
  const botAllows = allowedActionPatterns(botIdentity().policy);
  const writerAllows = broker().writerPolicies.flatMap((p) =>
    allowedActionPatterns(policyDocument(p.policy as never)),
  );
  const allowedBy = (patterns: string[], action: string) => patterns.some((p) => actionMatches(p, action));

  it('finds SDK commands and the actions their parameters imply', () => {
    const source = `
      import { CreateRoleCommand, type IAMClient } from '@aws-sdk/client-iam';
      import { AssumeRoleCommand } from '@aws-sdk/client-sts';
      import type { ListRootsCommand } from '@aws-sdk/client-organizations';
      await iam.send(new CreateRoleCommand({ RoleName, Tags: [{ Key: 'a', Value: 'b' }] }));
      await sts.send(new AssumeRoleCommand({ RoleArn, ...(x ? { ExternalId: x } : {}), SourceIdentity: who }));
      new NotAnAwsCommand({});
    `;
    expect([...findAwsActions(source)].sort()).toEqual([
      'iam:CreateRole',
      'iam:TagRole',
      'sts:AssumeRole',
      'sts:SetSourceIdentity',
    ]);
  });

  it('every IAM, STS and Organizations action the code calls is allowed to its caller', () => {
    // The adapters are merged: a scan that finds nothing is a broken scan, not a pass.
    expect(calls.size).toBeGreaterThan(0);
    const uncovered: string[] = [];
    for (const [action, files] of calls) {
      const service = action.split(':')[0];
      // IAM runs as the broker in the member account, Organizations as the bot. Both assume
      // roles (the bot the broker, the broker grant roles); source identity and session tags
      // are set only on grant-role sessions, by the broker.
      const ok =
        action === 'sts:GetCallerIdentity'
          ? true // needs no permission (the bot reads its own account)
          : service === 'iam' && files.every((f) => f.endsWith('boundary-writer.ts'))
            ? allowedBy(writerAllows, action)
            : service === 'iam'
              ? allowedBy(brokerAllows, action)
              : service === 'organizations'
                ? allowedBy(botAllows, action)
                : action === 'sts:AssumeRole'
                  ? allowedBy(botAllows, action) && allowedBy(brokerAllows, action)
                  : allowedBy(brokerAllows, action);
      if (!ok) uncovered.push(`${action} (${files.join(', ')})`);
    }
    expect(uncovered).toEqual([]);
  });
});

describe('deploy/aws/bot-identity.yaml: the identity-center backend', () => {
  const INSTANCE = 'arn:aws:sso:::instance/ssoins-1234567890abcdef';
  const SET = 'arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-0123456789abcdef';
  const OTHER_INSTANCE_SET = 'arn:aws:sso:::permissionSet/ssoins-fedcba0987654321/ps-0123456789abcdef';
  const resolver = new CfnResolver(botTemplate, {
    accountId: BOT_ACCOUNT,
    parameters: { IdentityCenterInstanceArn: INSTANCE, IdentityStoreId: 'd-1234567890' },
  });
  const icPolicy = policyDocument(resolver.resource('IdentityCenterPolicy')!.PolicyDocument);
  const identity = [{ name: 'identity-center', policy: icPolicy }];
  const asBot = (
    action: string,
    resource: string,
    contextVariables: Record<string, string | string[]> = {},
  ) =>
    decide(identity, {
      principal: BOT_ROLE,
      action,
      resource,
      resourceAccount: BOT_ACCOUNT,
      contextVariables,
    });
  const owned = { 'aws:ResourceTag/managed-by': 'aws-access-bot' };

  it('is only created when an instance is given', () => {
    expect(botIdentity().resolver.resource('IdentityCenterPolicy')).toBeUndefined();
  });

  it('changes and assigns only permission sets tagged managed-by=aws-access-bot', async () => {
    for (const action of [
      'sso:PutInlinePolicyToPermissionSet',
      'sso:PutPermissionsBoundaryToPermissionSet',
      'sso:ProvisionPermissionSet',
      'sso:CreateAccountAssignment',
      'sso:DeleteAccountAssignment',
    ]) {
      expect(await asBot(action, SET, owned), action).toBe('Allowed');
      expect(await asBot(action, SET), `${action} on a set the bot does not own`).toBe('ImplicitlyDenied');
      expect(await asBot(action, OTHER_INSTANCE_SET, owned), `${action} in another instance`).toBe(
        'ImplicitlyDenied',
      );
    }
    expect(await asBot('sso:DeletePermissionSet', SET, owned)).toBe('ImplicitlyDenied');
  });

  it('creates sets only with the ownership tag, and cannot tag a foreign set into its ownership', async () => {
    const tagging = (tags: Record<string, string>) => ({
      ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
      'aws:TagKeys': Object.keys(tags),
    });
    expect(
      await asBot(
        'sso:CreatePermissionSet',
        SET,
        tagging({ 'managed-by': 'aws-access-bot', 'aws-access:template': 'x' }),
      ),
    ).toBe('Allowed');
    expect(await asBot('sso:CreatePermissionSet', SET, tagging({ team: 'x' }))).toBe('ImplicitlyDenied');
    expect(await asBot('sso:TagResource', SET, tagging({ 'managed-by': 'aws-access-bot' }))).toBe(
      'ImplicitlyDenied',
    );
    expect(
      await asBot('sso:TagResource', SET, { ...owned, ...tagging({ 'aws-access:content-hash': 'abc' }) }),
    ).toBe('Allowed');
  });

  it('finds users in its identity store only', async () => {
    expect(
      await asBot(
        'identitystore:GetUserId',
        `arn:aws:identitystore::${BOT_ACCOUNT}:identitystore/d-1234567890`,
      ),
    ).toBe('Allowed');
    expect(
      await asBot(
        'identitystore:GetUserId',
        `arn:aws:identitystore::${BOT_ACCOUNT}:identitystore/d-9999999999`,
      ),
    ).toBe('ImplicitlyDenied');
    expect(
      await asBot(
        'identitystore:CreateUser',
        `arn:aws:identitystore::${BOT_ACCOUNT}:identitystore/d-1234567890`,
      ),
    ).toBe('ImplicitlyDenied');
  });

  it('allows every sso-admin and identitystore call the backend makes', () => {
    const dir = repoPath('src/aws/identity-center');
    const called = new Set<string>();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(`${dir}/${file}`, 'utf8');
      for (const [, name] of text.matchAll(/new (\w+)Command\(/g)) {
        const fromSso = new RegExp(`\\b${name}Command\\b[^;]*from '@aws-sdk/client-sso-admin'`, 's').test(
          text,
        );
        called.add(`${fromSso ? 'sso' : 'identitystore'}:${name}`);
      }
    }
    expect(called.size).toBeGreaterThan(15);
    const allows = allowedActionPatterns(icPolicy);
    expect([...called].filter((a) => !allows.some((p) => actionMatches(p, a)))).toEqual([]);
  });
});
