/**
 * The parts of the identity-center backend moto cannot show: Identity Center's asynchronous
 * statuses (moto always answers SUCCEEDED, and has no DescribePermissionSetProvisioningStatus),
 * an e-mail shared by two users (moto returns the first), and the pure content of a set.
 * aws-sdk-client-mock is not a dependency here: a real SDK client whose middleware answers
 * each command from a script stands in for it, so nothing reaches the network.
 */
import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { createAssignment, deleteAssignment } from '../../../src/aws/identity-center/account-assignments.js';
import type { IdentityCenterOptions } from '../../../src/aws/identity-center/identity-center-options.js';
import { findIdentityCenterUser } from '../../../src/aws/identity-center/identity-lookup.js';
import {
  IdentityCenterOperationError,
  waitForOperation,
} from '../../../src/aws/identity-center/operation-status.js';
import {
  classifyManagedPolicy,
  permissionSetContent,
  permissionSetName,
  sessionDenyStatements,
  sessionDurationFor,
} from '../../../src/aws/identity-center/permission-set-content.js';
import { provision } from '../../../src/aws/identity-center/permission-sets.js';
import { ErrorCode } from '../../../src/errors.js';
import type { BoundaryTemplate } from '../../../src/templates/boundary-template.js';

type Handler = (input: Record<string, unknown>) => unknown;

/** A real SDK client answering from `handlers` (by command name); records every call. */
function scripted<T>(
  client: T,
  handlers: Record<string, Handler>,
): { client: T; calls: Array<[string, Record<string, unknown>]> } {
  const calls: Array<[string, Record<string, unknown>]> = [];
  (
    client as unknown as {
      middlewareStack: { add(mw: unknown, o: { step: 'initialize'; name: string }): void };
    }
  ).middlewareStack.add(
    (_next: unknown, ctx: { commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
      const name = (ctx.commandName ?? '').replace(/Command$/, '');
      calls.push([name, args.input]);
      const handler = handlers[name];
      if (!handler) throw new Error(`unexpected call ${name}`);
      return { output: { $metadata: {}, ...(handler(args.input) as object) } };
    },
    { step: 'initialize', name: 'scripted' },
  );
  return { client, calls };
}

const cfg = { region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } };
const INSTANCE = 'arn:aws:sso:::instance/ssoins-1234567890abcdef';
const PS = `${INSTANCE}/ps-0123456789abcdef`;

function options(ssoAdmin: SSOAdminClient, sleeps: number[] = []): IdentityCenterOptions {
  return {
    ssoAdmin,
    identitystore: new IdentitystoreClient(cfg),
    instanceArn: INSTANCE,
    identityStoreId: 'd-1234567890',
    instanceRegion: 'eu-west-1',
    accessPortalUrl: 'https://d-1234567890.awsapps.com/start',
    region: 'us-east-1',
    partition: 'aws',
    brokerRoleName: 'aws-access-broker',
    templates: { template: () => undefined },
    holders: undefined as never,
    userNames: new Map(),
    clock: { now: () => 0 },
    poll: { sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 },
  };
}

describe('Identity Center operation statuses', () => {
  it('an assignment still IN_PROGRESS is polled with backoff until it SUCCEEDED', async () => {
    const statuses = ['IN_PROGRESS', 'IN_PROGRESS', 'SUCCEEDED'];
    const { client, calls } = scripted(new SSOAdminClient(cfg), {
      CreateAccountAssignment: () => ({
        AccountAssignmentCreationStatus: { Status: 'IN_PROGRESS', RequestId: 'r-1' },
      }),
      DescribeAccountAssignmentCreationStatus: () => ({
        AccountAssignmentCreationStatus: { Status: statuses.shift(), RequestId: 'r-1' },
      }),
    });
    const sleeps: number[] = [];
    await createAssignment(options(client, sleeps), {
      accountId: '111111111111',
      permissionSetArn: PS,
      principalId: 'u-1',
    });
    expect(calls.map(([n]) => n)).toEqual([
      'CreateAccountAssignment',
      'DescribeAccountAssignmentCreationStatus',
      'DescribeAccountAssignmentCreationStatus',
      'DescribeAccountAssignmentCreationStatus',
    ]);
    expect(calls[1]![1]).toEqual({ InstanceArn: INSTANCE, AccountAssignmentCreationRequestId: 'r-1' });
    expect(calls[0]![1]).toMatchObject({
      PrincipalType: 'USER',
      PrincipalId: 'u-1',
      TargetType: 'AWS_ACCOUNT',
      TargetId: '111111111111',
    });
    expect(sleeps).toEqual([500, 1000, 2000]);
  });

  it('a deletion that FAILED surfaces Identity Center’s reason', async () => {
    const { client } = scripted(new SSOAdminClient(cfg), {
      DeleteAccountAssignment: () => ({
        AccountAssignmentDeletionStatus: { Status: 'IN_PROGRESS', RequestId: 'r-2' },
      }),
      DescribeAccountAssignmentDeletionStatus: () => ({
        AccountAssignmentDeletionStatus: {
          Status: 'FAILED',
          RequestId: 'r-2',
          FailureReason: 'role is in use',
        },
      }),
    });
    const error = await deleteAssignment(options(client), {
      accountId: '111111111111',
      permissionSetArn: PS,
      principalId: 'u-1',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdentityCenterOperationError);
    expect((error as Error).message).toMatch(/failed in Identity Center: role is in use/);
  });

  it('provisioning is waited on with DescribePermissionSetProvisioningStatus', async () => {
    const { client, calls } = scripted(new SSOAdminClient(cfg), {
      ProvisionPermissionSet: () => ({
        PermissionSetProvisioningStatus: { Status: 'IN_PROGRESS', RequestId: 'p-1' },
      }),
      DescribePermissionSetProvisioningStatus: () => ({
        PermissionSetProvisioningStatus: { Status: 'SUCCEEDED', RequestId: 'p-1' },
      }),
    });
    await provision(options(client), PS, 'AWS_ACCOUNT', '111111111111');
    expect(calls).toEqual([
      [
        'ProvisionPermissionSet',
        { InstanceArn: INSTANCE, PermissionSetArn: PS, TargetType: 'AWS_ACCOUNT', TargetId: '111111111111' },
      ],
      [
        'DescribePermissionSetProvisioningStatus',
        { InstanceArn: INSTANCE, ProvisionPermissionSetRequestId: 'p-1' },
      ],
    ]);
  });

  it('an operation still in progress at the timeout is a retryable error', async () => {
    let waited = 0;
    const error = await waitForOperation(
      'assigning',
      { Status: 'IN_PROGRESS', RequestId: 'r' },
      async () => ({ Status: 'IN_PROGRESS', RequestId: 'r' }),
      { timeoutMs: 5000, sleep: async (ms) => void (waited += ms), random: () => 0.5 },
    ).catch((e: unknown) => e);
    expect((error as { code: string }).code).toBe(ErrorCode.AwsRetryable);
    expect(waited).toBe(5000);
  });
});

describe('finding the requester in the identity store', () => {
  const lookup = (handlers: Record<string, Handler>, userNames = new Map<string, string>()) => {
    const { client, calls } = scripted(new IdentitystoreClient(cfg), handlers);
    return {
      calls,
      find: (email?: string) =>
        findIdentityCenterUser(
          { identitystore: client, identityStoreId: 'd-1234567890', userNames },
          {
            slackUserId: 'U0ALICE',
            ...(email ? { email } : {}),
          },
        ),
    };
  };
  const conflict = () => {
    throw Object.assign(new Error('more than one user'), {
      name: 'ConflictException',
      $metadata: { httpStatusCode: 409 },
    });
  };

  it('an e-mail two users share is ambiguous: nothing is granted', async () => {
    const { find } = lookup({ GetUserId: conflict });
    expect(await find('alice@example.com')).toMatchObject({
      found: false,
      reason: 'ambiguous',
      message: expect.stringMatching(/does not name exactly one IAM Identity Center user/),
    });
  });

  it('a user returned for an e-mail they do not have is refused as ambiguous', async () => {
    const { find } = lookup({
      GetUserId: () => ({ UserId: 'u-1', IdentityStoreId: 'd-1234567890' }),
      DescribeUser: () => ({ UserId: 'u-1', UserName: 'bob', Emails: [{ Value: 'bob@example.com' }] }),
    });
    expect(await find('alice@example.com')).toMatchObject({ found: false, reason: 'ambiguous' });
  });

  it('looks up by the unique emails attribute, or by the mapped user name', async () => {
    const a = lookup({
      GetUserId: () => ({ UserId: 'u-1', IdentityStoreId: 'd-1234567890' }),
      DescribeUser: () => ({ UserId: 'u-1', UserName: 'alice', Emails: [{ Value: 'Alice@Example.com' }] }),
    });
    expect(await a.find('alice@example.com')).toEqual({
      found: true,
      user: { userId: 'u-1', userName: 'alice' },
    });
    expect(a.calls[0]![1]).toMatchObject({
      AlternateIdentifier: {
        UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: 'alice@example.com' },
      },
    });
    const b = lookup(
      {
        GetUserId: () => ({ UserId: 'u-2', IdentityStoreId: 'd-1234567890' }),
        DescribeUser: () => ({ UserId: 'u-2', UserName: 'alice.w' }),
      },
      new Map([['U0ALICE', 'alice.w']]),
    );
    expect(await b.find()).toEqual({ found: true, user: { userId: 'u-2', userName: 'alice.w' } });
    expect(b.calls[0]![1]).toMatchObject({
      AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: 'alice.w' } },
    });
  });

  it('no Slack e-mail and no mapping: a clear refusal without asking AWS', async () => {
    const { find, calls } = lookup({});
    expect(await find()).toMatchObject({ found: false, reason: 'no-email' });
    expect(calls).toEqual([]);
  });
});

describe('permission set content', () => {
  const template = {
    name: 'readonly',
    maxDurationSeconds: 8 * 3600,
    managedPolicyArns: [
      'arn:${partition}:iam::aws:policy/ReadOnlyAccess',
      'arn:aws:iam::${account_id}:policy/team/shared/Extra',
    ],
    inlinePolicy: {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:${partition}:s3:::logs-${account_id}/*' },
      ],
    },
    conditions: {},
  } as unknown as BoundaryTemplate;
  const opts = { partition: 'aws', region: 'us-east-1', brokerRoleName: 'aws-access-broker' };

  it('names sets aws-access-<template> within 32 characters, distinct for long names', () => {
    expect(permissionSetName('readonly')).toBe('aws-access-readonly');
    const a = permissionSetName('a-very-long-template-name-for-data-team');
    const b = permissionSetName('a-very-long-template-name-for-data-tea2');
    expect(a.length).toBeLessThanOrEqual(32);
    expect(b.length).toBeLessThanOrEqual(32);
    expect(a).not.toBe(b);
  });

  it('session duration is the template’s maximum within Identity Center’s 1 h – 12 h', () => {
    expect(sessionDurationFor({ maxDurationSeconds: 8 * 3600 })).toBe('PT8H');
    expect(sessionDurationFor({ maxDurationSeconds: 90 * 60 })).toBe('PT1H30M');
    expect(sessionDurationFor({ maxDurationSeconds: 30 * 60 })).toBe('PT1H');
    expect(sessionDurationFor({ maxDurationSeconds: 24 * 3600 })).toBe('PT12H');
  });

  it('AWS-managed policies are attached by ARN, customer-managed ones by name and path', () => {
    expect(classifyManagedPolicy('arn:aws:iam::aws:policy/ReadOnlyAccess')).toEqual({
      aws: 'arn:aws:iam::aws:policy/ReadOnlyAccess',
    });
    expect(classifyManagedPolicy('arn:aws:iam::111111111111:policy/team/shared/Extra')).toEqual({
      customer: { Name: 'Extra', Path: '/team/shared/' },
    });
    expect(classifyManagedPolicy('arn:aws:iam::111111111111:policy/Top')).toEqual({
      customer: { Name: 'Top', Path: '/' },
    });
  });

  it('renders ${account_id} as the session’s account, the boundary as a customer-managed reference, and hashes the denies in', () => {
    const plain = permissionSetContent(template, [], opts);
    expect(plain.inlinePolicy?.Statement[0]?.Resource).toBe('arn:aws:s3:::logs-${aws:PrincipalAccount}/*');
    expect(plain.awsManagedPolicyArns).toEqual(['arn:aws:iam::aws:policy/ReadOnlyAccess']);
    expect(plain.customerManagedPolicies).toEqual([{ Name: 'Extra', Path: '/team/shared/' }]);
    expect(plain.boundary).toEqual({ Name: 'boundary-readonly', Path: '/aws-access/' });
    const denied = permissionSetContent(
      template,
      [{ accountId: '111111111111', userName: 'alice', issuedBefore: 0, until: 1 }],
      opts,
    );
    expect(denied.hash).not.toBe(plain.hash);
    expect(denied.inlinePolicy?.Statement[0]).toMatchObject({
      Effect: 'Deny',
      Condition: { StringLike: { 'aws:userid': '*:alice' } },
    });
    expect(permissionSetContent(template, [], opts).hash).toBe(plain.hash);
  });

  it('a revoked user name with wildcards or a $ denies that user only, not every session that matches', async () => {
    const revoke = Date.parse('2030-01-01T12:00:00Z');
    const statements = sessionDenyStatements([
      { accountId: '111111111111', userName: '*', issuedBefore: revoke, until: revoke + 1 },
      { accountId: '111111111111', userName: 'b?b', issuedBefore: revoke, until: revoke + 1 },
      { accountId: '111111111111', userName: '${aws:username}', issuedBefore: revoke, until: revoke + 1 },
    ]);
    const decide = async (sessionName: string) => {
      const result = await runSimulation(
        {
          request: {
            principal: `arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_reader_0123/${sessionName}`,
            action: 's3:GetObject',
            resource: { resource: 'arn:aws:s3:::logs/key', accountId: '111111111111' },
            contextVariables: {
              'aws:userid': `AROAEXAMPLE:${sessionName}`,
              'aws:username': sessionName,
              'aws:PrincipalAccount': '111111111111',
              'aws:TokenIssueTime': '2030-01-01T11:00:00Z',
            },
          },
          identityPolicies: [
            {
              name: 'set',
              policy: {
                Version: '2012-10-17',
                Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }, ...statements],
              },
            },
          ],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
        },
        {},
      );
      return result.resultType === 'error' ? 'error' : result.overallResult;
    };
    expect(await decide('*')).toBe('ExplicitlyDenied');
    expect(await decide('b?b')).toBe('ExplicitlyDenied');
    expect(await decide('${aws:username}')).toBe('ExplicitlyDenied');
    expect(await decide('alice')).toBe('Allowed');
    expect(await decide('bob')).toBe('Allowed');
  });
});
