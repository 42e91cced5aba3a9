/**
 * The CloudFormation templates and the code, deployed together on moto: `bot-identity.yaml` in
 * the bot's account (moto's default account, 123456789012) and `broker-role.yaml` in a member
 * account (111111111111, reached the way a StackSet's execution role would be), both created with
 * CreateStack from the files in deploy/aws/ unchanged, then a real grant and revoke through the
 * product's own wiring (`createAwsServices` with the config's `aws.brokerRoleName`,
 * `aws.boundaryWriterRoleName` and `aws.brokerExternalId`).
 *
 * What this proves: the two agree on names and wiring. The roles the bot assumes exist under the
 * names the config gives (moto's AssumeRole would succeed for a role that does not exist, so the
 * test looks them up), the external id the bot sends is the one the stack's trust policies
 * require, boundaries are written in the boundary writer's session at `/aws-access/boundary-*`,
 * the grant role is `/aws-access/aws-access-<id>` under that boundary and trusts the broker the
 * stack created, and revoke puts on the stack's deny-all boundary before removing the role.
 *
 * What it cannot prove: moto does not enforce IAM policies, so nothing here shows the broker or
 * the writer is *allowed* to do what it did. The IAM policy simulator does that in
 * test/unit/deploy/aws-cloudformation.spec.ts. The one permission step checked here goes through
 * the simulator as well: the bot policy and trust policies as CloudFormation on moto created them,
 * evaluated against the AssumeRole requests the code actually sent. The bot runs as moto's default
 * user, not inside the IRSA role the stack creates; the simulator calls use that role as the
 * principal. moto's CloudFormation is not AWS's either: a template that deploys here can still
 * fail on AWS (and cfn-lint, `npm run lint:cfn`, is the check for that).
 */
import { readFileSync } from 'node:fs';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  IAMClient,
  ListRolesCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerSessions } from '../../../src/aws/broker-sessions.js';
import { awsEndpointUrl, resetMoto } from '../../support/services.js';
import { ACCOUNT, makeKit, recordCalls, REQUESTER, type Kit } from './aws-test-kit.js';
import { cloudFormation, deployStack, type Credentials } from './cloudformation-on-moto.js';

/** moto's account for the default test credentials: the bot's account. */
const BOT_ACCOUNT = '123456789012';
const EXTERNAL_ID = 'stack-test-external-id-7f3a';
const OIDC = 'oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const REGION = 'us-east-1';
const HOUR = 3600_000;

const template = (file: string) =>
  readFileSync(new URL(`../../../deploy/aws/${file}`, import.meta.url), 'utf8');

type Policy = { Version: string; Statement: Array<Record<string, unknown>> };
const decoded = (document: string | undefined): Policy =>
  JSON.parse(decodeURIComponent(document ?? '{}')) as Policy;

/** Credentials in `account` as moto hands them out for any role ARN there. */
async function credentialsIn(account: string, roleName: string): Promise<Credentials> {
  const sts = new STSClient({ region: REGION, endpoint: awsEndpointUrl() });
  const { Credentials: c } = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${account}:role/${roleName}`,
      RoleSessionName: 'stack-test',
    }),
  );
  return {
    accessKeyId: c!.AccessKeyId!,
    secretAccessKey: c!.SecretAccessKey!,
    sessionToken: c!.SessionToken,
  };
}

/** The bot's own STS client inside a BrokerSessions (private): to record what AssumeRole sent. */
const baseSts = (sessions: BrokerSessions) =>
  (sessions as unknown as { options: { baseSts: STSClient } }).options.baseSts;

describe('deploy/aws stacks on moto, with a grant and a revoke through the roles they created', () => {
  let kit: Kit;
  let botOutputs: Record<string, string>;
  let brokerOutputs: Record<string, string>;
  let memberIam: IAMClient;
  let botIam: IAMClient;
  let assumeCalls: Array<Array<{ command: string; input: unknown }>>;

  beforeAll(async () => {
    await resetMoto();
    kit = await makeKit((c) => {
      c.aws.brokerExternalId = EXTERNAL_ID;
    });
    // Before any session exists: every AssumeRole the bot sends for a broker or writer session.
    assumeCalls = [
      recordCalls(baseSts(kit.services.accountClients), 'recordBrokerAssume'),
      recordCalls(baseSts(kit.services.boundaryClients), 'recordWriterAssume'),
    ];

    // Bot account: the default test credentials. Role names are the templates' defaults, and
    // the config's defaults must name the same roles.
    botOutputs = await deployStack(cloudFormation(awsEndpointUrl(), REGION), {
      StackName: 'aws-access-bot-identity',
      TemplateBody: template('bot-identity.yaml'),
      Parameters: { OidcProvider: OIDC },
    });
    botIam = new IAMClient({ region: REGION, endpoint: awsEndpointUrl() });

    // Member account: as the StackSet's execution role would (moto: any role ARN there).
    const member = await credentialsIn(ACCOUNT, 'AWSCloudFormationStackSetExecutionRole');
    brokerOutputs = await deployStack(cloudFormation(awsEndpointUrl(), REGION, member), {
      StackName: 'aws-access-broker',
      TemplateBody: template('broker-role.yaml'),
      Parameters: {
        BotAccountId: BOT_ACCOUNT,
        BotPrincipalArn: botOutputs.BotRoleArn!,
        ExternalId: EXTERNAL_ID,
      },
    });
    memberIam = new IAMClient({ region: REGION, endpoint: awsEndpointUrl(), credentials: member });
  }, 60_000);

  afterAll(async () => kit?.close());

  it('creates the stacks with the outputs the config expects', () => {
    const { accountClients, boundaryClients, roleGrants: grants } = kit.services;
    expect(botOutputs).toEqual({
      BotPolicyArn: `arn:aws:iam::${BOT_ACCOUNT}:policy/aws-access-bot-policy`,
      BotRoleArn: `arn:aws:iam::${BOT_ACCOUNT}:role/aws-access-bot`,
    });
    expect(brokerOutputs).toEqual({
      BrokerRoleArn: accountClients.brokerRoleArn(ACCOUNT),
      BoundaryWriterRoleArn: boundaryClients.brokerRoleArn(ACCOUNT),
      RevokedBoundaryArn: grants.revokedBoundaryArn(ACCOUNT),
    });
  });

  it('the roles the config names exist in the member account, trusting the bot role with the external id', async () => {
    const { accountClients, boundaryClients } = kit.services;
    // moto's AssumeRole succeeds for a role that does not exist: look the roles up.
    for (const roleArn of [accountClients.brokerRoleArn(ACCOUNT), boundaryClients.brokerRoleArn(ACCOUNT)]) {
      const { Role } = await memberIam.send(new GetRoleCommand({ RoleName: roleArn.split('/').pop() }));
      expect(Role!.Arn).toBe(roleArn);
      expect(Role!.Path).toBe('/');
      expect(Role!.MaxSessionDuration).toBe(3600);
      const [statement] = decoded(Role!.AssumeRolePolicyDocument).Statement;
      expect(statement).toMatchObject({
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${BOT_ACCOUNT}:root` },
        Action: 'sts:AssumeRole',
        Condition: {
          ArnEquals: { 'aws:PrincipalArn': botOutputs.BotRoleArn },
          StringEquals: { 'sts:ExternalId': EXTERNAL_ID },
        },
      });
    }

    const revoked = await memberIam.send(
      new GetPolicyCommand({ PolicyArn: brokerOutputs.RevokedBoundaryArn }),
    );
    expect(revoked.Policy).toMatchObject({ Path: '/aws-access/', PolicyName: 'aws-access-revoked' });

    // Bot account: the IRSA role with the bot policy attached.
    const { Role: botRole } = await botIam.send(new GetRoleCommand({ RoleName: 'aws-access-bot' }));
    expect(decoded(botRole!.AssumeRolePolicyDocument).Statement[0]).toMatchObject({
      Principal: { Federated: `arn:aws:iam::${BOT_ACCOUNT}:oidc-provider/${OIDC}` },
      Action: 'sts:AssumeRoleWithWebIdentity',
    });
  });

  it('grants and revokes through the broker and boundary-writer roles the stack created', async () => {
    const { grants, accountClients, boundaryClients } = kit.services;
    const brokerIam = await accountClients.iam(ACCOUNT);
    const writerIam = await boundaryClients.iam(ACCOUNT);
    const brokerCalls = recordCalls(brokerIam, 'recordBrokerIam');
    const writerCalls = recordCalls(writerIam, 'recordWriterIam');

    // The sessions are the stack's roles, in the member account.
    const who = async (sessions: BrokerSessions) =>
      (await (await sessions.sts(ACCOUNT)).send(new GetCallerIdentityCommand({}))).Arn;
    expect(await who(accountClients)).toBe(
      `arn:aws:sts::${ACCOUNT}:assumed-role/aws-access-broker/aws-access-bot`,
    );
    expect(await who(boundaryClients)).toBe(
      `arn:aws:sts::${ACCOUNT}:assumed-role/aws-access-boundary-writer/aws-access-bot`,
    );

    const now = kit.clock.now();
    const result = await grants.grant({
      requestId: 'req-stack1',
      accountId: ACCOUNT,
      templateName: 's3-data-reader',
      requester: REQUESTER,
      startsAt: new Date(now),
      expiresAt: new Date(now + HOUR),
    });
    expect(result).toMatchObject({
      roleName: 'aws-access-req-stack1',
      roleArn: `arn:aws:iam::${ACCOUNT}:role/aws-access/aws-access-req-stack1`,
    });

    // The boundary: written in the writer's session, never the broker's.
    const boundaryArn = `arn:aws:iam::${ACCOUNT}:policy/aws-access/boundary-s3-data-reader`;
    expect(writerCalls.map((c) => c.command)).toContain('CreatePolicy');
    expect(brokerCalls.map((c) => c.command)).not.toContain('CreatePolicy');
    const { Policy: boundary } = await memberIam.send(new GetPolicyCommand({ PolicyArn: boundaryArn }));
    expect(boundary).toMatchObject({ Path: '/aws-access/', PolicyName: 'boundary-s3-data-reader' });

    // The grant role, as the stack's account sees it.
    const { Role: role } = await memberIam.send(new GetRoleCommand({ RoleName: 'aws-access-req-stack1' }));
    expect(role).toMatchObject({ Path: '/aws-access/', Arn: result.roleArn });
    expect(role!.PermissionsBoundary?.PermissionsBoundaryArn).toBe(boundaryArn);
    const trustedAws = decoded(role!.AssumeRolePolicyDocument).Statement.flatMap((s) => {
      const aws = (s.Principal as { AWS?: string | string[] } | undefined)?.AWS ?? [];
      return Array.isArray(aws) ? aws : [aws];
    });
    expect(trustedAws).toContain(brokerOutputs.BrokerRoleArn);

    // Revoke: the stack's deny-all boundary goes on first, then the role goes.
    expect(await grants.revoke(ACCOUNT, 'req-stack1')).toEqual({ removed: true });
    const firstRevokeCall = brokerCalls.find((c) => c.command === 'PutRolePermissionsBoundary');
    expect(firstRevokeCall?.input).toEqual({
      RoleName: 'aws-access-req-stack1',
      PermissionsBoundary: brokerOutputs.RevokedBoundaryArn,
    });
    const left = await memberIam.send(new ListRolesCommand({ PathPrefix: '/aws-access/' }));
    expect(left.Roles ?? []).toEqual([]);
    await expect(
      memberIam.send(new GetRoleCommand({ RoleName: 'aws-access-req-stack1' })),
    ).rejects.toMatchObject({
      name: 'NoSuchEntityException',
    });
  });

  it('the deployed bot policy and trust policies allow the AssumeRole requests the code sent', async () => {
    const sent = assumeCalls
      .flat()
      .filter((c) => c.command === 'AssumeRole')
      .map((c) => c.input as { RoleArn: string; ExternalId?: string });
    expect(sent.map((s) => s.RoleArn).sort()).toEqual(
      [brokerOutputs.BrokerRoleArn, brokerOutputs.BoundaryWriterRoleArn].sort(),
    );

    // The bot policy as CloudFormation created it in the bot account.
    const { Policy } = await botIam.send(new GetPolicyCommand({ PolicyArn: botOutputs.BotPolicyArn }));
    const { PolicyVersion } = await botIam.send(
      new GetPolicyVersionCommand({
        PolicyArn: botOutputs.BotPolicyArn,
        VersionId: Policy!.DefaultVersionId,
      }),
    );
    const botPolicy = decoded(PolicyVersion!.Document);

    for (const request of sent) {
      expect(request.ExternalId).toBe(EXTERNAL_ID);
      const roleName = request.RoleArn.split('/').pop()!;
      const { Role } = await memberIam.send(new GetRoleCommand({ RoleName: roleName }));
      const decide = async (externalId: string | undefined) => {
        const result = await runSimulation(
          {
            request: {
              principal: botOutputs.BotRoleArn!,
              action: 'sts:AssumeRole',
              resource: { resource: request.RoleArn, accountId: ACCOUNT },
              contextVariables: {
                'aws:PrincipalArn': botOutputs.BotRoleArn!,
                ...(externalId ? { 'sts:ExternalId': externalId } : {}),
              },
            },
            identityPolicies: [{ name: 'bot', policy: botPolicy }],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            resourcePolicy: decoded(Role!.AssumeRolePolicyDocument),
          },
          {},
        );
        if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
        return result.overallResult;
      };
      expect(await decide(request.ExternalId)).toBe('Allowed');
      expect(await decide('another-external-id')).not.toBe('Allowed');
    }
  });
});
