/**
 * The identity-center backend against moto (sso-admin, identitystore, IAM for the boundary) and
 * a real Redis, through the product's own wiring (createAwsServices). moto's missing calls
 * (provisioning, set tags, boundary) are answered by test/support/identity-center-gaps.ts.
 */
import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { GetPolicyCommand } from '@aws-sdk/client-iam';
import {
  CreateAccountAssignmentCommand,
  CreatePermissionSetCommand,
  DeleteAccountAssignmentCommand,
  DescribePermissionSetCommand,
  GetInlinePolicyForPermissionSetCommand,
  ListAccountAssignmentsCommand,
  ListManagedPoliciesInPermissionSetCommand,
  SSOAdminClient,
} from '@aws-sdk/client-sso-admin';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAwsServices, type AwsServices } from '../../../src/aws/create-aws-services.js';
import { readEnvOptions } from '../../../src/config/env.js';
import type { AppConfig } from '../../../src/config/schema.js';
import type { GrantRequest } from '../../../src/domain/ports.js';
import { createLogger } from '../../../src/logger.js';
import { startIdentityCenterGaps, type IdentityCenterGaps } from '../../support/identity-center-gaps.js';
import { awsEndpointUrl, redisUrl, resetMoto, testConfig } from '../../support/services.js';
import { TestClock } from './aws-test-kit.js';

const ACCOUNT = '111111111111';
const INSTANCE = 'arn:aws:sso:::instance/ssoins-1234567890abcdef';
const STORE = 'd-1234567890';
const HOUR = 3_600_000;
const creds = { accessKeyId: 'testing', secretAccessKey: 'testing' };

let gaps: IdentityCenterGaps;
let sso: SSOAdminClient;
let ids: IdentitystoreClient;

beforeAll(async () => {
  gaps = await startIdentityCenterGaps(awsEndpointUrl());
  sso = new SSOAdminClient({ region: 'eu-west-1', endpoint: gaps.url, credentials: creds });
  ids = new IdentitystoreClient({ region: 'eu-west-1', endpoint: awsEndpointUrl(), credentials: creds });
});
afterAll(async () => gaps.stop());

interface Kit {
  services: AwsServices;
  clock: TestClock;
  redis: Redis;
  close(): Promise<void>;
}

async function makeKit(mutate?: (c: AppConfig) => void): Promise<Kit> {
  const loaded = testConfig((c) => {
    c.aws.grantBackend = 'identity-center';
    c.aws.identityCenter = { instanceArn: INSTANCE, identityStoreId: STORE, region: 'eu-west-1' };
    mutate?.(c);
  });
  const redis = new Redis(redisUrl(), { maxRetriesPerRequest: 2 });
  const clock = new TestClock(Date.parse('2030-01-01T10:00:00Z'));
  const services = await createAwsServices({
    env: { ...readEnvOptions({}), awsRegion: 'us-east-1', awsEndpointUrl: gaps.url },
    loaded,
    redis,
    logger: createLogger({ level: 'silent' }),
    clock,
    maxAttempts: 2,
    sleep: async () => {},
    identityCenterPoll: { sleep: async () => {} },
  });
  return {
    services,
    clock,
    redis,
    close: async () => {
      const keys = await redis.keys(`${loaded.config.redis.prefix}*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    },
  };
}

async function createUser(userName: string, email: string): Promise<string> {
  const out = await ids.send(
    new CreateUserCommand({
      IdentityStoreId: STORE,
      UserName: userName,
      DisplayName: userName,
      Name: { GivenName: userName, FamilyName: 'Test' },
      Emails: [{ Value: email, Primary: true, Type: 'work' }],
    }),
  );
  return out.UserId!;
}

async function assignments(permissionSetArn: string, account = ACCOUNT) {
  const out = await sso.send(
    new ListAccountAssignmentsCommand({
      InstanceArn: INSTANCE,
      AccountId: account,
      PermissionSetArn: permissionSetArn,
    }),
  );
  return (out.AccountAssignments ?? []).map((a) => `${a.PrincipalType}:${a.PrincipalId}`);
}

async function inlinePolicy(permissionSetArn: string) {
  const out = await sso.send(
    new GetInlinePolicyForPermissionSetCommand({ InstanceArn: INSTANCE, PermissionSetArn: permissionSetArn }),
  );
  return JSON.parse(out.InlinePolicy || '{"Statement":[]}') as { Statement: Array<Record<string, unknown>> };
}

/** The principal a request names for an Identity Center user (what `identify` gave at ask time). */
const userArn = (id: string) => `arn:aws:identitystore:::user/${id}`;
let requesterArn = '';

function request(kit: Kit, requestId: string, extra: Partial<GrantRequest> = {}): GrantRequest {
  return {
    requestId,
    accountId: ACCOUNT,
    templateName: 'readonly',
    requester: {
      slackUserId: 'U0REQUESTER',
      principalArn: requesterArn,
      email: 'requester@example.com',
    },
    startsAt: new Date(kit.clock.t),
    expiresAt: new Date(kit.clock.t + HOUR),
    ...extra,
  };
}

describe('identity-center grant backend on moto', () => {
  let kit: Kit;
  let userId: string;
  beforeEach(async () => {
    await resetMoto();
    gaps.calls.length = 0;
    gaps.tags.clear();
    gaps.provisioned.clear();
    gaps.boundaries.clear();
    kit = await makeKit();
    userId = await createUser('requester@example.com', 'requester@example.com');
    requesterArn = userArn(userId);
  });
  afterEach(async () => kit.close());

  it('grants by assigning the bot-owned permission set, provisioned to the account first, and tells how to use it', async () => {
    const result = await kit.services.grants.grant(request(kit, 'req-1'));
    expect(result.roleName).toBe('aws-access-readonly');
    const arn = result.roleArn;
    expect(await assignments(arn)).toEqual([`USER:${userId}`]);

    const set = await sso.send(
      new DescribePermissionSetCommand({ InstanceArn: INSTANCE, PermissionSetArn: arn }),
    );
    expect(set.PermissionSet?.Name).toBe('aws-access-readonly');
    // readonly allows 8 h at most: the set's sessions last no longer.
    expect(set.PermissionSet?.SessionDuration).toBe('PT8H');
    const managed = await sso.send(
      new ListManagedPoliciesInPermissionSetCommand({ InstanceArn: INSTANCE, PermissionSetArn: arn }),
    );
    expect(managed.AttachedManagedPolicies?.map((p) => p.Arn)).toEqual([
      'arn:aws:iam::aws:policy/ReadOnlyAccess',
    ]);
    expect(gaps.boundaries.get(arn)).toEqual({
      CustomerManagedPolicyReference: { Name: 'boundary-readonly', Path: '/aws-access/' },
    });
    expect(Object.fromEntries(gaps.tags.get(arn)!)).toMatchObject({
      'managed-by': 'aws-access-bot',
      'aws-access:template': 'readonly',
      'aws-access:content-hash': expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    // The boundary the set refers to exists in the account (written by the boundary writer).
    const iam = await kit.services.boundaryClients.iam(ACCOUNT);
    await expect(
      iam.send(
        new GetPolicyCommand({ PolicyArn: `arn:aws:iam::${ACCOUNT}:policy/aws-access/boundary-readonly` }),
      ),
    ).resolves.toBeDefined();
    // Provisioned to the account before the assignment was made.
    expect(gaps.calls.indexOf('ProvisionPermissionSet')).toBeGreaterThan(-1);
    expect(gaps.calls.indexOf('ProvisionPermissionSet')).toBeLessThan(
      gaps.calls.indexOf('CreateAccountAssignment'),
    );

    expect(result.delivery.accessPortalUrl).toBe(`https://${STORE}.awsapps.com/start`);
    expect(result.delivery.cliProfile).toContain(`sso_account_id = ${ACCOUNT}`);
    expect(result.delivery.cliProfile).toContain('sso_role_name = aws-access-readonly');
    expect(result.delivery.cliProfile).toContain('sso_region = eu-west-1');
    expect(result.delivery.switchRoleUrl).toBe(
      `https://${STORE}.awsapps.com/start/#/console?account_id=${ACCOUNT}&role_name=aws-access-readonly`,
    );
  });

  it('keeps the assignment while another request of the same person holds it, and removes it with the last', async () => {
    const first = await kit.services.grants.grant(request(kit, 'req-a'));
    await kit.services.grants.grant(request(kit, 'req-b'));
    expect(await assignments(first.roleArn)).toEqual([`USER:${userId}`]);

    expect(await kit.services.grants.revoke(ACCOUNT, 'req-a')).toEqual({
      removed: true,
      what: "request req-a's hold on the assignment of aws-access-readonly to requester@example.com (another request still holds it)",
    });
    expect(await assignments(first.roleArn)).toEqual([`USER:${userId}`]);
    // No session deny while the person still holds the set in the account.
    expect(JSON.stringify(await inlinePolicy(first.roleArn))).not.toContain('aws:TokenIssueTime');

    kit.clock.t += 60_000;
    expect(await kit.services.grants.revoke(ACCOUNT, 'req-b')).toMatchObject({
      removed: true,
      what: expect.stringContaining('(the assignment with it)'),
    });
    expect(await assignments(first.roleArn)).toEqual([]);
    // Idempotent.
    expect(await kit.services.grants.revoke(ACCOUNT, 'req-b')).toMatchObject({ removed: false });
  });

  it('two holders ending at once delete the assignment exactly once, and it is gone', async () => {
    const first = await kit.services.grants.grant(request(kit, 'req-c'));
    await kit.services.grants.grant(request(kit, 'req-d'));
    gaps.calls.length = 0;
    const results = await Promise.all([
      kit.services.grants.revoke(ACCOUNT, 'req-c'),
      kit.services.grants.revoke(ACCOUNT, 'req-d'),
    ]);
    expect(results.map((r) => r.removed)).toEqual([true, true]);
    expect(gaps.calls.filter((c) => c === 'DeleteAccountAssignment')).toHaveLength(1);
    expect(await assignments(first.roleArn)).toEqual([]);
  });

  it('a grant racing the last revoke of the same assignment keeps its assignment', async () => {
    const first = await kit.services.grants.grant(request(kit, 'req-e'));
    await Promise.all([
      kit.services.grants.revoke(ACCOUNT, 'req-e'),
      kit.services.grants.grant(request(kit, 'req-f')),
    ]);
    expect(await assignments(first.roleArn)).toEqual([`USER:${userId}`]);
  });

  it('at the last revoke the set denies that user’s sessions in that account issued before it, and drops the deny after the session duration', async () => {
    const granted = await kit.services.grants.grant(request(kit, 'req-g'));
    const revokedAt = kit.clock.t;
    await kit.services.grants.revoke(ACCOUNT, 'req-g');
    const deny = (await inlinePolicy(granted.roleArn)).Statement.find(
      (s) => s.Effect === 'Deny' && JSON.stringify(s).includes('TokenIssueTime'),
    );
    expect(deny).toMatchObject({
      Action: '*',
      Resource: '*',
      Condition: {
        StringLike: { 'aws:userid': '*:requester@example.com' },
        StringEquals: { 'aws:PrincipalAccount': ACCOUNT },
        DateLessThan: { 'aws:TokenIssueTime': new Date(revokedAt).toISOString() },
      },
    });
    // Re-provisioned so the deny reaches the account.
    expect(gaps.calls.lastIndexOf('ProvisionPermissionSet')).toBeGreaterThan(
      gaps.calls.indexOf('DeleteAccountAssignment'),
    );

    kit.clock.t += 7 * HOUR;
    await kit.services.grants.reconcile(ACCOUNT, new Map());
    // A session issued just before the revoke may still be alive: the deny stays.
    expect(JSON.stringify(await inlinePolicy(granted.roleArn))).toContain('TokenIssueTime');
    kit.clock.t += HOUR + 2 * 60_000; // past readonly's 8 h session duration
    await kit.services.grants.reconcile(ACCOUNT, new Map());
    expect(JSON.stringify(await inlinePolicy(granted.roleArn))).not.toContain('TokenIssueTime');
  });

  it('never touches a permission set of the bot’s name that the bot does not own, and grants nothing', async () => {
    const foreign = await sso.send(
      new CreatePermissionSetCommand({
        InstanceArn: INSTANCE,
        Name: 'aws-access-readonly',
        SessionDuration: 'PT12H',
      }),
    );
    const arn = foreign.PermissionSet!.PermissionSetArn!;
    await expect(kit.services.grants.grant(request(kit, 'req-h'))).rejects.toThrow(
      /not managed by aws-access-bot/,
    );
    const after = await sso.send(
      new DescribePermissionSetCommand({ InstanceArn: INSTANCE, PermissionSetArn: arn }),
    );
    expect(after.PermissionSet?.SessionDuration).toBe('PT12H');
    expect(await assignments(arn)).toEqual([]);
    expect(gaps.calls).not.toContain('PutInlinePolicyToPermissionSet');
  });

  it('refuses a requester without an Identity Center user, clearly, and assigns nothing', async () => {
    const nobody = {
      slackUserId: 'U0NOBODY',
      principalArn: userArn('someone-else'),
      email: 'nobody@example.com',
    };
    expect(await kit.services.grants.identify(ACCOUNT, 'readonly', nobody)).toEqual({
      refusal: expect.stringMatching(/no IAM Identity Center user has your e-mail nobody@example\.com/),
    });
    await expect(kit.services.grants.grant(request(kit, 'req-i', { requester: nobody }))).rejects.toThrow(
      /no IAM Identity Center user/,
    );
    expect(gaps.calls).not.toContain('CreateAccountAssignment');
    expect(
      await kit.services.grants.identify(ACCOUNT, 'readonly', {
        slackUserId: 'U0REQUESTER',
        email: 'requester@example.com',
      }),
    ).toEqual({ principalArn: requesterArn });
  });

  it('grants only to the Identity Center user the request was approved for', async () => {
    const other = await createUser('other', 'other@example.com');
    const approvedFor = { ...request(kit, 'req-p').requester, principalArn: userArn(other) };
    await expect(
      kit.services.grants.grant(request(kit, 'req-p', { requester: approvedFor })),
    ).rejects.toThrow(/no longer .*nothing was granted/);
    expect(gaps.calls).not.toContain('CreateAccountAssignment');
  });

  it('finds the user by the identity map’s user name before the e-mail', async () => {
    await kit.close();
    kit = await makeKit((c) => {
      c.identities.map.U0REQUESTER!.identityCenterUserName = 'mapped-user';
    });
    const mapped = await createUser('mapped-user', 'other@example.com');
    const base = request(kit, 'req-j');
    const result = await kit.services.grants.grant({
      ...base,
      requester: { ...base.requester, principalArn: userArn(mapped) },
    });
    expect(await assignments(result.roleArn)).toEqual([`USER:${mapped}`]);
  });

  it('reconcile removes an assignment of a bot-owned set that no request holds, and reports a missing one', async () => {
    const granted = await kit.services.grants.grant(request(kit, 'req-k'));
    const planted = await createUser('planted', 'planted@example.com');
    await sso.send(
      new CreateAccountAssignmentCommand({
        InstanceArn: INSTANCE,
        PermissionSetArn: granted.roleArn,
        TargetType: 'AWS_ACCOUNT',
        TargetId: ACCOUNT,
        PrincipalType: 'USER',
        PrincipalId: planted,
      }),
    );
    const report = await kit.services.grants.reconcile(
      ACCOUNT,
      new Map([['req-k', new Date(kit.clock.t + HOUR)]]),
    );
    expect(report.missing).toEqual([]);
    expect(report.orphaned).toEqual([]);
    expect(report.foreign).toEqual([
      expect.objectContaining({
        roleName: 'aws-access-readonly',
        assignment: expect.objectContaining({ principalId: planted }),
      }),
    ]);
    expect(await kit.services.grants.removeForeignRole(ACCOUNT, report.foreign![0]!)).toEqual({
      removed: true,
    });
    expect(await assignments(granted.roleArn)).toEqual([`USER:${userId}`]);

    // Removed outside the bot: the active grant's assignment is missing.
    await sso.send(
      new DeleteAccountAssignmentCommand({
        InstanceArn: INSTANCE,
        PermissionSetArn: granted.roleArn,
        TargetType: 'AWS_ACCOUNT',
        TargetId: ACCOUNT,
        PrincipalType: 'USER',
        PrincipalId: userId,
      }),
    );
    const later = await kit.services.grants.reconcile(
      ACCOUNT,
      new Map([['req-k', new Date(kit.clock.t + HOUR)]]),
    );
    expect(later.missing).toEqual(['req-k']);
  });

  it('reconcile reports a holder whose request is no longer active as orphaned, and one past its end as overdue', async () => {
    await kit.services.grants.grant(request(kit, 'req-l'));
    await kit.services.grants.grant(request(kit, 'req-m'));
    const report = await kit.services.grants.reconcile(
      ACCOUNT,
      new Map([['req-m', new Date(kit.clock.t - 1000)]]),
    );
    expect(report.orphaned.map((r) => r.requestId)).toEqual(['req-l']);
    expect(report.overdue.map((r) => r.requestId)).toEqual(['req-m']);
  });

  it('rewrites the set only when its content changes', async () => {
    await kit.services.grants.grant(request(kit, 'req-n'));
    gaps.calls.length = 0;
    await kit.services.grants.grant(request(kit, 'req-o'));
    expect(gaps.calls).not.toContain('PutInlinePolicyToPermissionSet');
    expect(gaps.calls).not.toContain('UpdatePermissionSet');
    expect(gaps.calls).not.toContain('CreatePermissionSet');
  });
});
