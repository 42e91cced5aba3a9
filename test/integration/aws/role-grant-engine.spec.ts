import { fileURLToPath } from 'node:url';
import {
  CreatePolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListPolicyVersionsCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.js';
import type { BoundaryTemplate } from '../../../src/templates/boundary-template.js';
import { renderBoundary, trustPolicy } from '../../../src/templates/grant-policies.js';
import { awsEndpointUrl, resetMoto } from '../../support/services.js';
import {
  ACCOUNT,
  awsError,
  failBelowRetry,
  makeKit,
  recordCalls,
  REQUESTER,
  startFakeFederation,
  type Kit,
} from './aws-test-kit.js';

const HOUR = 3600_000;
const FIXTURE_TEMPLATES = fileURLToPath(new URL('./fixtures/templates', import.meta.url));

async function createTeamReadPolicy(iam: IAMClient): Promise<void> {
  await iam.send(
    new CreatePolicyCommand({
      PolicyName: 'TeamRead',
      Path: '/team/',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
      }),
    }),
  );
}

function decode(document: string | undefined): unknown {
  return JSON.parse(decodeURIComponent(document ?? '{}'));
}

async function roleGone(iam: IAMClient, roleName: string): Promise<boolean> {
  try {
    await iam.send(new GetRoleCommand({ RoleName: roleName }));
    return false;
  } catch (error) {
    return (error as Error).name === 'NoSuchEntityException';
  }
}

/** Grants `templateName` to REQUESTER in ACCOUNT from the kit clock's now, for `durationMs`. */
function grantFor(kit: Kit, requestId: string, durationMs: number, templateName = 's3-data-reader') {
  const now = kit.clock.now();
  return kit.services.grants.grant({
    requestId,
    accountId: ACCOUNT,
    templateName,
    requester: REQUESTER,
    startsAt: new Date(now),
    expiresAt: new Date(now + durationMs),
  });
}

describe('RoleGrantEngine against moto', () => {
  let kit: Kit;
  beforeEach(async () => {
    await resetMoto();
  });
  afterEach(async () => kit?.close());

  it('a grant creates exactly the role, boundary, tags, policies and trust the template describes', async () => {
    kit = await makeKit();
    const now = kit.clock.now();
    const expiresAt = new Date(now + 2 * HOUR);
    const result = await kit.services.grants.grant({
      requestId: 'req-0001',
      accountId: ACCOUNT,
      templateName: 's3-data-reader',
      requester: REQUESTER,
      startsAt: new Date(now),
      expiresAt,
    });
    expect(result.roleName).toBe('aws-access-req-0001');
    expect(result.roleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/aws-access/aws-access-req-0001`);

    const iam = await kit.services.accountClients.iam(ACCOUNT);
    const role = (await iam.send(new GetRoleCommand({ RoleName: 'aws-access-req-0001' }))).Role!;
    expect(role.Path).toBe('/aws-access/');
    expect(role.Arn).toBe(result.roleArn);
    expect(role.MaxSessionDuration).toBe(7200);
    const boundaryArn = `arn:aws:iam::${ACCOUNT}:policy/aws-access/boundary-s3-data-reader`;
    expect(role.PermissionsBoundary?.PermissionsBoundaryArn).toBe(boundaryArn);
    expect(Object.fromEntries((role.Tags ?? []).map((t) => [t.Key, t.Value]))).toEqual({
      'aws-access:request-id': 'req-0001',
      'aws-access:requester': 'requester@example.com',
      'aws-access:template': 's3-data-reader',
      'aws-access:expires-at': expiresAt.toISOString(),
      'managed-by': 'aws-access-bot',
    });

    // Trust: the requester with MFA (the template requires it) and the broker.
    expect(decode(role.AssumeRolePolicyDocument)).toEqual(
      trustPolicy({
        principalArn: REQUESTER.principalArn,
        brokerRoleArn: `arn:aws:iam::${ACCOUNT}:role/aws-access-broker`,
        requiresMfa: true,
      }),
    );
    const trust = decode(role.AssumeRolePolicyDocument) as {
      Statement: Array<{ Principal: unknown; Condition?: unknown }>;
    };
    expect(trust.Statement[0]!.Condition).toEqual({ Bool: { 'aws:MultiFactorAuthPresent': 'true' } });

    // The boundary policy holds the rendered template boundary plus the guard, with this account.
    const template = (kit.services.templates.template('s3-data-reader') as BoundaryTemplate)!;
    const policy = (await iam.send(new GetPolicyCommand({ PolicyArn: boundaryArn }))).Policy!;
    expect(policy.Path).toBe('/aws-access/');
    const version = await iam.send(
      new GetPolicyVersionCommand({ PolicyArn: boundaryArn, VersionId: policy.DefaultVersionId }),
    );
    const boundary = decode(version.PolicyVersion?.Document);
    expect(boundary).toEqual(
      renderBoundary(template, {
        account_id: ACCOUNT,
        partition: 'aws',
        region: 'us-east-1',
        template: 's3-data-reader',
        broker_role_name: 'aws-access-broker',
      }),
    );
    expect(JSON.stringify(boundary)).toContain(`arn:aws:iam::${ACCOUNT}:role/aws-access/*`);
    expect(JSON.stringify(boundary)).not.toContain('${');

    // Inline policies: the template's grant policy rendered for the account, and the expiry deny.
    const inlineNames = (await iam.send(new ListRolePoliciesCommand({ RoleName: role.RoleName })))
      .PolicyNames;
    expect([...(inlineNames ?? [])].sort()).toEqual(['expiry', 'grant']);
    const grant = await iam.send(new GetRolePolicyCommand({ RoleName: role.RoleName, PolicyName: 'grant' }));
    expect(JSON.stringify(decode(grant.PolicyDocument))).toContain(`arn:aws:kms:*:${ACCOUNT}:key/*`);
    const expiry = await iam.send(
      new GetRolePolicyCommand({ RoleName: role.RoleName, PolicyName: 'expiry' }),
    );
    expect(decode(expiry.PolicyDocument)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DenyAfterGrantEnds',
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { DateGreaterThan: { 'aws:CurrentTime': expiresAt.toISOString() } },
        },
      ],
    });
    const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: role.RoleName }));
    expect(attached.AttachedPolicies ?? []).toEqual([]);
  });

  it('attaches the template managed policies, adds the conditions policy and delivers a switch-role link and CLI profile in assume mode', async () => {
    kit = await makeKit((c) => {
      c.templates.directory = FIXTURE_TEMPLATES;
    });
    const iam = await kit.services.accountClients.iam(ACCOUNT);
    await createTeamReadPolicy(iam);
    const result = await grantFor(kit, 'req-0002', 30 * 60_000, 'team-reader');
    const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'aws-access-req-0002' }));
    expect(attached.AttachedPolicies?.map((p) => p.PolicyArn)).toEqual([
      `arn:aws:iam::${ACCOUNT}:policy/team/TeamRead`,
    ]);
    const role = (await iam.send(new GetRoleCommand({ RoleName: 'aws-access-req-0002' }))).Role!;
    expect(role.MaxSessionDuration).toBe(3600); // IAM's minimum; the expiry policy ends it at 30 min
    const trust = decode(role.AssumeRolePolicyDocument) as { Statement: Array<{ Condition?: unknown }> };
    expect(trust.Statement[0]!.Condition).toEqual({ IpAddress: { 'aws:SourceIp': ['203.0.113.0/24'] } });
    const grant = await iam.send(new GetRolePolicyCommand({ RoleName: role.RoleName, PolicyName: 'grant' }));
    expect(decode(grant.PolicyDocument)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 's3:GetObject',
          Resource: `arn:aws:s3:::team-${ACCOUNT}/requester@example.com/*`,
        },
      ],
    });
    const conditions = await iam.send(
      new GetRolePolicyCommand({ RoleName: role.RoleName, PolicyName: 'conditions' }),
    );
    const statements = (
      decode(conditions.PolicyDocument) as { Statement: Array<{ Sid: string; Condition: unknown }> }
    ).Statement;
    expect(statements.map((s) => s.Sid)).toEqual(['DenyOutsideSourceIps', 'DenyOutsideRegions']);
    expect(statements[1]!.Condition).toEqual({ StringNotEquals: { 'aws:RequestedRegion': ['eu-west-1'] } });

    const d = result.delivery;
    expect(d.mode).toBe('assume');
    expect(d.consoleSignInUrl).toBeUndefined();
    expect(d.envExports).toBeUndefined();
    const url = new URL(d.switchRoleUrl!);
    expect(url.origin + url.pathname).toBe('https://signin.aws.amazon.com/switchrole');
    expect(url.searchParams.get('roleName')).toBe('aws-access/aws-access-req-0002');
    expect(url.searchParams.get('account')).toBe(ACCOUNT);
    expect(d.cliProfile).toContain(`role_arn = ${result.roleArn}`);
    expect(d.cliProfile).toContain('duration_seconds = 1800');
    expect(d.cliProfile).not.toContain('mfa_serial'); // this template does not require MFA
  });

  it('the CLI profile names the MFA device when the template requires MFA', async () => {
    kit = await makeKit();
    const result = await grantFor(kit, 'req-0012', 2 * HOUR);
    expect(result.delivery.cliProfile).toContain('mfa_serial = arn:aws:iam::123456789012:mfa/requester');
    expect(result.delivery.cliProfile).toContain('duration_seconds = 7200');
  });

  it('credentials mode mints a session with SourceIdentity, session tags, a session policy and a sign-in link', async () => {
    const federation = await startFakeFederation();
    try {
      kit = await makeKit((c) => {
        c.aws.delivery = 'credentials';
        c.aws.federationEndpoint = federation.url;
        c.templates.directory = FIXTURE_TEMPLATES;
      });
      await createTeamReadPolicy(await kit.services.accountClients.iam(ACCOUNT));
      const sts = await kit.services.accountClients.sts(ACCOUNT);
      // moto accepts SourceIdentity and Tags but does not echo them back, so the test records
      // what the real SDK put on the wire and then proves the minted credentials work.
      const sent = recordCalls(sts);
      const now = kit.clock.now();
      const expiresAt = new Date(now + 4 * HOUR);
      const result = await kit.services.grants.grant({
        requestId: 'req-0003',
        accountId: ACCOUNT,
        templateName: 'team-reader',
        requester: REQUESTER,
        startsAt: new Date(now),
        expiresAt,
      });
      const assume = sent.filter((c) => c.command === 'AssumeRole');
      expect(assume).toHaveLength(1);
      const input = assume[0]!.input as Record<string, unknown>;
      expect(input.RoleArn).toBe(result.roleArn);
      expect(input.SourceIdentity).toBe('requester@example.com');
      expect(input.DurationSeconds).toBe(3600);
      expect(input.Tags).toEqual([
        { Key: 'aws-access:request-id', Value: 'req-0003' },
        { Key: 'aws-access:requester', Value: 'requester@example.com' },
        { Key: 'aws-access:template', Value: 'team-reader' },
      ]);
      expect(JSON.parse(input.Policy as string)).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 's3:GetObject',
            Resource: `arn:aws:s3:::team-${ACCOUNT}/requester@example.com/*`,
            Condition: { DateLessThan: { 'aws:CurrentTime': expiresAt.toISOString() } },
          },
        ],
      });

      const d = result.delivery;
      expect(d.mode).toBe('credentials');
      expect(d.switchRoleUrl).toBeUndefined();
      const env = Object.fromEntries(
        d.envExports!.split('\n').map((l) => {
          const [, key, value] = /^export ([A-Z_]+)=(.*)$/.exec(l)!;
          return [key!, value!];
        }),
      );
      expect(env.AWS_REGION).toBe('us-east-1');
      // The minted session acts as the granted role in the target account.
      const asGrant = new STSClient({
        region: 'us-east-1',
        endpoint: awsEndpointUrl(),
        credentials: {
          accessKeyId: env.AWS_ACCESS_KEY_ID!,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY!,
          sessionToken: env.AWS_SESSION_TOKEN,
        },
      });
      const me = await asGrant.send(new GetCallerIdentityCommand({}));
      expect(me.Account).toBe(ACCOUNT);
      expect(me.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/aws-access-req-0003/requester@example.com`);

      expect(federation.sessions).toEqual([
        {
          sessionId: env.AWS_ACCESS_KEY_ID,
          sessionKey: env.AWS_SECRET_ACCESS_KEY,
          sessionToken: env.AWS_SESSION_TOKEN,
        },
      ]);
      const login = new URL(d.consoleSignInUrl!);
      expect(login.origin + login.pathname).toBe(federation.url);
      expect(login.searchParams.get('Action')).toBe('login');
      expect(login.searchParams.get('SigninToken')).toBe('token-1');
      expect(login.searchParams.get('Destination')).toBe('https://console.aws.amazon.com/');
      expect(d.sessionExpiresAt).toBeInstanceOf(Date);

      // Refresh mints a new session for the same grant.
      const refreshed = await kit.services.grants.refreshDelivery(ACCOUNT, 'req-0003', REQUESTER);
      expect(refreshed.envExports).not.toBe(d.envExports);
      expect(federation.sessions).toHaveLength(2);
    } finally {
      await federation.stop();
    }
  });

  it('waits with backoff while IAM still answers AccessDenied for a new role', async () => {
    kit = await makeKit();
    const sts = await kit.services.accountClients.sts(ACCOUNT);
    const attempts = failBelowRetry(sts, 'AssumeRole', () => awsError('AccessDenied', 403), 3);
    await grantFor(kit, 'req-0004', HOUR);
    expect(attempts.attempts).toBe(4);
    expect(kit.sleeps).toHaveLength(3);
    expect(kit.sleeps[2]!).toBeGreaterThan(kit.sleeps[0]! * 1.2);
  });

  it('a new boundary version is made when the template changes, keeping at most 5 versions', async () => {
    kit = await makeKit();
    const catalog = kit.services.templates;
    const original = catalog.template('s3-data-reader')!;
    const iam = await kit.services.accountClients.iam(ACCOUNT);
    const arn = `arn:aws:iam::${ACCOUNT}:policy/aws-access/boundary-s3-data-reader`;
    await kit.services.roleGrants.ensureBoundary(iam, ACCOUNT, original);
    await kit.services.roleGrants.ensureBoundary(iam, ACCOUNT, original);
    expect((await iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn }))).Versions).toHaveLength(1);
    for (let i = 0; i < 7; i++) {
      const changed: BoundaryTemplate = {
        ...original,
        boundary: {
          Version: '2012-10-17',
          Statement: [{ Sid: `V${i}`, Effect: 'Allow', Action: 'ec2:DescribeInstances', Resource: '*' }],
        },
      };
      await kit.services.roleGrants.ensureBoundary(iam, ACCOUNT, changed);
    }
    const versions = (await iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn }))).Versions ?? [];
    expect(versions).toHaveLength(5);
    const def = versions.find((v) => v.IsDefaultVersion)!;
    const doc = await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: def.VersionId }));
    expect(JSON.stringify(decode(doc.PolicyVersion?.Document))).toContain('"Sid":"V6"');
  });

  it('revoke removes the role and everything attached, and a second revoke succeeds', async () => {
    kit = await makeKit((c) => {
      c.templates.directory = FIXTURE_TEMPLATES;
    });
    await createTeamReadPolicy(await kit.services.accountClients.iam(ACCOUNT));
    const now = kit.clock.now();
    await kit.services.grants.grant({
      requestId: 'req-0005',
      accountId: ACCOUNT,
      templateName: 'team-reader',
      requester: REQUESTER,
      startsAt: new Date(now),
      expiresAt: new Date(now + HOUR),
    });
    const iam = await kit.services.accountClients.iam(ACCOUNT);
    const calls = recordCalls(iam);
    expect(await kit.services.grants.revoke(ACCOUNT, 'req-0005')).toEqual({ removed: true });
    expect(await roleGone(iam, 'aws-access-req-0005')).toBe(true);
    // Access ends first (the deny-all boundary, then trust), cleanup follows.
    const order = calls.map((c) => c.command);
    expect(order.indexOf('PutRolePermissionsBoundary')).toBeGreaterThan(-1);
    expect(order.indexOf('PutRolePermissionsBoundary')).toBeLessThan(order.indexOf('UpdateAssumeRolePolicy'));
    expect(order.indexOf('UpdateAssumeRolePolicy')).toBeGreaterThan(-1);
    expect(order.indexOf('UpdateAssumeRolePolicy')).toBeLessThan(order.indexOf('DetachRolePolicy'));
    expect(order.indexOf('UpdateAssumeRolePolicy')).toBeLessThan(order.indexOf('DeleteRolePolicy'));
    const teamRead = await iam.send(
      new GetPolicyCommand({ PolicyArn: `arn:aws:iam::${ACCOUNT}:policy/team/TeamRead` }),
    );
    expect(teamRead.Policy?.AttachmentCount).toBe(0);
    expect(order.indexOf('DeleteRolePolicy')).toBeLessThan(order.indexOf('DeleteRole'));
    const boundary = calls.find((c) => c.command === 'PutRolePermissionsBoundary')!.input as {
      PermissionsBoundary: string;
    };
    expect(boundary.PermissionsBoundary).toBe(`arn:aws:iam::${ACCOUNT}:policy/aws-access/aws-access-revoked`);
    expect(order).not.toContain('PutRolePolicy');
    expect(
      calls
        .filter((c) => c.command === 'DeleteRolePolicy')
        .map((c) => (c.input as { PolicyName: string }).PolicyName)
        .sort(),
    ).toEqual(['conditions', 'expiry', 'grant']);
    expect(await kit.services.grants.revoke(ACCOUNT, 'req-0005')).toEqual({ removed: false });
    expect(await kit.services.grants.revoke(ACCOUNT, 'never-granted')).toEqual({ removed: false });
  });

  it('a revoke that fails midway has already cut access and is finished by the next attempt', async () => {
    kit = await makeKit();
    await grantFor(kit, 'req-0006', HOUR);
    const iam = await kit.services.accountClients.iam(ACCOUNT);
    failBelowRetry(iam, 'DeleteRole', () => awsError('LimitExceeded', 409), 1);
    await expect(kit.services.grants.revoke(ACCOUNT, 'req-0006')).rejects.toMatchObject({
      code: ErrorCode.AwsFatal,
    });
    const role = (await iam.send(new GetRoleCommand({ RoleName: 'aws-access-req-0006' }))).Role!;
    const trust = decode(role.AssumeRolePolicyDocument) as { Statement: Array<{ Effect: string }> };
    expect(trust.Statement.map((s) => s.Effect)).toEqual(['Deny']);
    expect(await kit.services.grants.revoke(ACCOUNT, 'req-0006')).toEqual({ removed: true });
    expect(await roleGone(iam, 'aws-access-req-0006')).toBe(true);
  });

  it('extend rewrites the expiry policy and the expires-at tag', async () => {
    kit = await makeKit();
    const now = kit.clock.now();
    await kit.services.grants.grant({
      requestId: 'req-0007',
      accountId: ACCOUNT,
      templateName: 's3-data-reader',
      requester: REQUESTER,
      startsAt: new Date(now),
      expiresAt: new Date(now + HOUR),
    });
    const later = new Date(now + 3 * HOUR);
    await kit.services.grants.extend(ACCOUNT, 'req-0007', later);
    const iam = await kit.services.accountClients.iam(ACCOUNT);
    const role = (await iam.send(new GetRoleCommand({ RoleName: 'aws-access-req-0007' }))).Role!;
    expect(role.Tags?.find((t) => t.Key === 'aws-access:expires-at')?.Value).toBe(later.toISOString());
    expect(role.MaxSessionDuration).toBe(3 * 3600);
    const expiry = await iam.send(
      new GetRolePolicyCommand({ RoleName: 'aws-access-req-0007', PolicyName: 'expiry' }),
    );
    expect(JSON.stringify(decode(expiry.PolicyDocument))).toContain(later.toISOString());
    await expect(kit.services.grants.extend(ACCOUNT, 'req-none', later)).rejects.toMatchObject({
      code: ErrorCode.NotFound,
    });
  });

  it('reconcile finds a role with an unknown request, one past its expiry, and an active grant without a role', async () => {
    kit = await makeKit();
    const now = kit.clock.now();
    const grant = (requestId: string, hours: number) =>
      kit.services.grants.grant({
        requestId,
        accountId: ACCOUNT,
        templateName: 's3-data-reader',
        requester: REQUESTER,
        startsAt: new Date(now),
        expiresAt: new Date(now + hours * HOUR),
      });
    await grant('req-active', 4);
    await grant('req-expired', 1);
    await grant('req-unknown', 4);
    kit.clock.t = now + 2 * HOUR;
    const report = await kit.services.grants.reconcile(
      ACCOUNT,
      new Map([
        ['req-active', new Date(now + 4 * HOUR)],
        ['req-expired', new Date(now + HOUR)],
        ['req-lost', new Date(now + 4 * HOUR)],
      ]),
    );
    expect(report.orphaned.map((r) => r.requestId)).toEqual(['req-unknown']);
    expect(report.orphaned[0]).toMatchObject({ accountId: ACCOUNT, roleName: 'aws-access-req-unknown' });
    expect(report.overdue.map((r) => r.requestId)).toEqual(['req-expired']);
    expect(report.overdue[0]!.expiresAt).toEqual(new Date(now + HOUR));
    expect(report.missing).toEqual(['req-lost']);
  });

  it('a grant that fails midway reports the AWS quota error clearly and leaves no role', async () => {
    kit = await makeKit();
    const iam = await kit.services.accountClients.iam(ACCOUNT);
    const failure = failBelowRetry(
      iam,
      'PutRolePolicy',
      () => awsError('LimitExceeded', 409, 'Cannot exceed quota for PoliciesPerRole'),
      1,
    );
    const now = kit.clock.now();
    const error = await kit.services.grants
      .grant({
        requestId: 'req-0008',
        accountId: ACCOUNT,
        templateName: 's3-data-reader',
        requester: REQUESTER,
        startsAt: new Date(now),
        expiresAt: new Date(now + HOUR),
      })
      .catch((e: unknown) => e);
    // Quota errors are not retried and surface clearly.
    expect(failure.attempts).toBe(1);
    expect(error).toMatchObject({ code: ErrorCode.AwsFatal, awsCode: 'LimitExceeded' });
    expect((error as Error).message).toMatch(/quota is reached \(LimitExceeded\)/);
    expect(await roleGone(iam, 'aws-access-req-0008')).toBe(true);
    const report = await kit.services.grants.reconcile(ACCOUNT, new Map());
    expect(report.orphaned).toEqual([]);
  });

  it('a CreateRole whose answer was lost, then a failed take-over, leaves no role (chaos run, #13)', async () => {
    kit = await makeKit();
    const iam = await kit.services.accountClients.iam(ACCOUNT);
    // The first CreateRole reaches IAM but its answer is lost: the SDK retries and meets
    // EntityAlreadyExists, so the engine takes the role over (remove and create again) ...
    let lost = false;
    (iam as unknown as { middlewareStack: { add: (...a: unknown[]) => void } }).middlewareStack.add(
      (next: (args: unknown) => Promise<unknown>, ctx: { commandName?: string }) => async (args: unknown) => {
        const out = await next(args);
        if (ctx.commandName === 'CreateRoleCommand' && !lost) {
          lost = true;
          throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError', $metadata: {} });
        }
        return out;
      },
      { step: 'finalizeRequest', priority: 'low', name: 'loseCreateRoleAnswer' },
    );
    // ... and the take-over fails.
    failBelowRetry(iam, 'ListRolePolicies', () => awsError('LimitExceeded', 409, 'injected'), 1);
    const error = await grantFor(kit, 'req-0031', HOUR).catch((e: unknown) => e);
    expect(lost).toBe(true);
    expect(error).toMatchObject({ code: ErrorCode.AwsFatal, awsCode: 'LimitExceeded' });
    // Before the fix the role stayed (the request ended `failed` with it) until reconcile.
    expect(await roleGone(iam, 'aws-access-req-0031')).toBe(true);
  });

  it('throttling is retried by the SDK and the call succeeds', async () => {
    kit = await makeKit(undefined, 4);
    const iam = await kit.services.accountClients.iam(ACCOUNT);
    const throttled = failBelowRetry(
      iam,
      'CreateRole',
      () => awsError('Throttling', 400, 'Rate exceeded'),
      2,
    );
    await grantFor(kit, 'req-0009', HOUR);
    expect(throttled.attempts).toBe(3);
    const roles = await iam.send(new ListRolesCommand({ PathPrefix: '/aws-access/' }));
    expect(roles.Roles?.map((r) => r.RoleName)).toEqual(['aws-access-req-0009']);
  });

  it('5xx that outlives the retries surfaces as a retryable error', async () => {
    kit = await makeKit(undefined, 2);
    const iam = await kit.services.accountClients.iam(ACCOUNT);
    const failing = failBelowRetry(iam, 'GetRole', () => awsError('ServiceUnavailable', 503), 10);
    const error = await kit.services.grants.revoke(ACCOUNT, 'req-0010').catch((e: unknown) => e);
    expect(failing.attempts).toBe(2);
    expect(error).toMatchObject({ code: ErrorCode.AwsRetryable });
  });

  it('broker sessions are cached per account until 5 minutes before expiry', async () => {
    kit = await makeKit();
    const first = await kit.services.accountClients.iam(ACCOUNT);
    expect(await kit.services.accountClients.iam(ACCOUNT)).toBe(first);
    const other = await kit.services.accountClients.iam('222222222222');
    expect(other).not.toBe(first);
    const sts = await kit.services.accountClients.sts('222222222222');
    const me = await sts.send(new GetCallerIdentityCommand({}));
    expect(me.Account).toBe('222222222222');
    expect(me.Arn).toContain('assumed-role/aws-access-broker/');
    // Broker sessions last an hour; 56 minutes later the cached one is within the margin.
    kit.clock.t += 56 * 60_000;
    expect(await kit.services.accountClients.iam(ACCOUNT)).not.toBe(first);
  });
});
