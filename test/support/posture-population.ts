/**
 * One IAM account in moto holding one example of every posture finding kind and one clean
 * counter-example of each, with the findings the review must make. Shared by the posture
 * integration test and the CLI test; no vitest imports here.
 */
import {
  AddUserToGroupCommand,
  AttachGroupPolicyCommand,
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  PutGroupPolicyCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AccessRequest } from '../../src/domain/access-request.js';
import { trustPolicy } from '../../src/templates/grant-policies.js';

export const POSTURE_ACCOUNT = '111111111111';
export const PARTNER_ACCOUNT = '999999999999';
const A = POSTURE_ACCOUNT;
const arn = (kind: string, name: string, path = '/') => `arn:aws:iam::${A}:${kind}${path}${name}`;

const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const READ_BUCKETS = doc({
  Effect: 'Allow',
  Action: ['s3:GetObject', 's3:ListBucket'],
  Resource: ['arn:aws:s3:::data-bucket', 'arn:aws:s3:::data-bucket/*'],
});
const ec2Trust = doc({
  Effect: 'Allow',
  Principal: { Service: 'ec2.amazonaws.com' },
  Action: 'sts:AssumeRole',
});
const BROKER = `arn:aws:iam::${A}:role/aws-access-broker`;
const REQUESTER = 'arn:aws:iam::123456789012:user/requester';

/** The request that explains `aws-access-req-ok` and `aws-access-req-tampered`. */
export function activeRequest(id: string, at = Date.now()): AccessRequest {
  return {
    id,
    version: 1,
    state: 'active',
    requesterId: 'U0REQUESTER',
    principalArn: REQUESTER,
    accountId: A,
    accountName: 'production',
    ouPath: [],
    templateName: 's3-data-reader',
    durationSeconds: 3600,
    reason: 'posture test',
    ruleName: 'default',
    approvalsRequired: 0,
    approvals: [],
    breakGlass: false,
    autoApproved: true,
    createdAt: at,
    updatedAt: at,
    pendingUntil: at + 3_600_000,
    startsAt: at,
    expiresAt: at + 3_600_000,
    roleName: `aws-access-${id}`,
    extensions: 0,
  };
}
export const ACTIVE_REQUEST_IDS = ['req-ok', 'req-tampered'];

/** `kind arn` of every finding the review must make, sorted. */
export const EXPECTED_FINDINGS = [
  `user-direct-policy ${arn('user', 'direct-alice')}`,
  `user-inline-policy ${arn('user', 'inline-carol')}`,
  `inline-policy ${arn('group', 'inline-group')}`,
  `admin-equivalent ${arn('group', 'admins')}`,
  `admin-equivalent ${arn('user', 'admin-dave')}`,
  `admin-equivalent ${arn('role', 'ci-deployer')}`,
  `unused-role ${arn('role', 'forgotten')}`,
  `unused-policy ${arn('policy', 'Leftover')}`,
  `wildcard-policy ${arn('policy', 'S3Everything')}`,
  `wildcard-policy ${arn('policy', 'FullAdmin')}`,
  `open-trust ${arn('role', 'partner-access')}`,
  `access-role-drift ${arn('role', 'aws-access-ghost', '/aws-access/')}`,
  `access-role-drift ${arn('role', 'aws-access-req-tampered', '/aws-access/')}`,
].sort();

/** Findings an exemption in {@link POSTURE_EXEMPTIONS} silences. */
export const EXPECTED_EXEMPTED = [
  `unused-role ${arn('role', 'break-glass')}`,
  `unused-policy ${arn('policy', 'LegacyLeftover')}`,
].sort();

export const POSTURE_EXEMPTIONS = [
  {
    tag: { key: 'posture-exempt', value: 'true' },
    kinds: ['unused-role' as const],
    reason: 'emergency role',
  },
  { arn: `arn:aws:iam::*:policy/Legacy*`, reason: 'kept for the 2027 audit' },
];

/** Roles that must count as used: assumed, and a call made with the session. */
const USED_ROLES = [
  'busy',
  'ci-deployer',
  'lambda-reader',
  'pass-only',
  'inline-free',
  'partner-access',
  'partner-with-external-id',
];

export async function populatePosture(iam: IAMClient, endpoint: string): Promise<void> {
  const policy = async (name: string, document: string, path = '/') =>
    (await iam.send(new CreatePolicyCommand({ PolicyName: name, PolicyDocument: document, Path: path })))
      .Policy!.Arn!;
  const role = (
    name: string,
    trust = ec2Trust,
    extra: Partial<{
      Path: string;
      PermissionsBoundary: string;
      Tags: Array<{ Key: string; Value: string }>;
    }> = {},
  ) => iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust, ...extra }));

  const readBuckets = await policy('ReadBuckets', READ_BUCKETS);
  // user-direct-policy, and its counter-example: the same policy through a group.
  await iam.send(new CreateUserCommand({ UserName: 'direct-alice' }));
  await iam.send(new AttachUserPolicyCommand({ UserName: 'direct-alice', PolicyArn: readBuckets }));
  await iam.send(new CreateGroupCommand({ GroupName: 'readers' }));
  await iam.send(new AttachGroupPolicyCommand({ GroupName: 'readers', PolicyArn: readBuckets }));
  await iam.send(
    new CreateUserCommand({ UserName: 'grouped-bob', Tags: [{ Key: 'slack-user', Value: 'U0BOB' }] }),
  );
  await iam.send(new AddUserToGroupCommand({ UserName: 'grouped-bob', GroupName: 'readers' }));
  // user-inline-policy / inline-policy; counter-examples: grouped-bob, the bot's own role.
  await iam.send(
    new CreateUserCommand({ UserName: 'inline-carol', Tags: [{ Key: 'slack-user', Value: 'U0CAROL' }] }),
  );
  await iam.send(
    new PutUserPolicyCommand({ UserName: 'inline-carol', PolicyName: 'mine', PolicyDocument: READ_BUCKETS }),
  );
  await iam.send(new CreateGroupCommand({ GroupName: 'inline-group' }));
  await iam.send(
    new PutGroupPolicyCommand({
      GroupName: 'inline-group',
      PolicyName: 'ours',
      PolicyDocument: READ_BUCKETS,
    }),
  );
  // admin-equivalent: Allow * on * on a group (and so its member), and an
  // escalation path (PassRole + CreateFunction); counter-examples: read-only Lambda, PassRole alone.
  await iam.send(new CreateGroupCommand({ GroupName: 'admins' }));
  // moto_server cannot load AWS-managed policies at run time: a customer-managed copy of
  // AdministratorAccess (so also a wildcard-policy).
  const fullAdmin = await policy('FullAdmin', doc({ Effect: 'Allow', Action: '*', Resource: '*' }));
  await iam.send(new AttachGroupPolicyCommand({ GroupName: 'admins', PolicyArn: fullAdmin }));
  // Owned (tagged), yet its admin finding goes to the security channel, never only to Dave.
  await iam.send(
    new CreateUserCommand({ UserName: 'admin-dave', Tags: [{ Key: 'slack-user', Value: 'U0DAVE' }] }),
  );
  await iam.send(new AddUserToGroupCommand({ UserName: 'admin-dave', GroupName: 'admins' }));
  const deploy = await policy(
    'DeployLambdas',
    doc({ Effect: 'Allow', Action: ['iam:PassRole', 'lambda:CreateFunction'], Resource: '*' }),
  );
  await role('ci-deployer');
  await iam.send(new AttachRolePolicyCommand({ RoleName: 'ci-deployer', PolicyArn: deploy }));
  const readLambdas = await policy(
    'ReadLambdas',
    doc({ Effect: 'Allow', Action: ['lambda:GetFunction', 'lambda:ListFunctions'], Resource: '*' }),
  );
  await role('lambda-reader');
  await iam.send(new AttachRolePolicyCommand({ RoleName: 'lambda-reader', PolicyArn: readLambdas }));
  const passOnly = await policy(
    'PassRolesOnly',
    doc({ Effect: 'Allow', Action: 'iam:PassRole', Resource: '*' }),
  );
  await role('pass-only');
  await iam.send(new AttachRolePolicyCommand({ RoleName: 'pass-only', PolicyArn: passOnly }));
  // unused-role: `forgotten` is never used; `busy` is; `break-glass` is exempted by tag.
  await role('forgotten');
  await role('busy');
  await role('break-glass', ec2Trust, { Tags: [{ Key: 'posture-exempt', Value: 'true' }] });
  // unused-policy: attached to nothing (ReadBuckets, attached, is the counter-example).
  await policy('Leftover', READ_BUCKETS);
  await policy('LegacyLeftover', READ_BUCKETS);
  // wildcard-policy: s3:* on *, on a group so only the policy is at fault.
  const s3all = await policy('S3Everything', doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' }));
  await iam.send(new CreateGroupCommand({ GroupName: 'storage' }));
  await iam.send(new AttachGroupPolicyCommand({ GroupName: 'storage', PolicyArn: s3all }));
  // open-trust: another account trusted without a condition, and with an ExternalId.
  const partner = (condition?: object) =>
    doc({
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${PARTNER_ACCOUNT}:root` },
      Action: 'sts:AssumeRole',
      ...(condition ? { Condition: condition } : {}),
    });
  await role('partner-access', partner());
  await role(
    'partner-with-external-id',
    partner({ StringEquals: { 'sts:ExternalId': 'a-shared-secret-id' } }),
  );
  // An inline-free role trusting its own account: clean on every check.
  await role(
    'inline-free',
    doc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 'sts:AssumeRole' }),
  );
  // access-role-drift: the bot's roles. `req-ok` is exactly what the bot writes for its active
  // request; `req-tampered` got AdministratorAccess attached; `ghost` has no request at all.
  const boundary = await policy(
    'boundary-s3-data-reader',
    doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }),
    '/aws-access/',
  );
  const botTrust = JSON.stringify(
    trustPolicy({ principalArn: REQUESTER, brokerRoleArn: BROKER, requiresMfa: false }),
  );
  for (const name of ['aws-access-req-ok', 'aws-access-req-tampered', 'aws-access-ghost']) {
    await role(name, botTrust, { Path: '/aws-access/', PermissionsBoundary: boundary });
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: name,
        PolicyName: 'expiry',
        PolicyDocument: doc({
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { DateGreaterThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } },
        }),
      }),
    );
  }
  await iam.send(new AttachRolePolicyCommand({ RoleName: 'aws-access-req-tampered', PolicyArn: fullAdmin }));

  // Every role above exists well before any is used, so the unused-role test can put its clock
  // between the two instants (moto's dates have one-second precision).
  await new Promise((resolve) => setTimeout(resolve, 1500));
  // moto records a role's last use when a call is signed with one of its sessions' keys.
  const sts = new STSClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  for (const name of USED_ROLES) {
    const { Credentials: c } = await sts.send(
      new AssumeRoleCommand({ RoleArn: arn('role', name), RoleSessionName: 'posture-test' }),
    );
    const as = new STSClient({
      region: 'us-east-1',
      endpoint,
      credentials: {
        accessKeyId: c!.AccessKeyId!,
        secretAccessKey: c!.SecretAccessKey!,
        sessionToken: c!.SessionToken!,
      },
    });
    await as.send(new GetCallerIdentityCommand({}));
  }
}
