/**
 * Templates may not escape their own time box: the expiry deny and the revocation only end
 * sessions of the grant's own role, so anything that mints another credential, chains into
 * another role, writes a resource policy naming someone else, or runs code under another role
 * would keep access after the grant. Proven per template with the policy simulator on the
 * identity policies and boundary the grant engine renders (see grant-simulation.ts), plus what
 * each template is still meant to allow, so the denies are not bought by breaking the template.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTemplates, type BoundaryTemplateCatalog } from '../../../src/templates/load-templates.js';
import { ACCOUNT, decideGrant, REGION } from './grant-simulation.js';

let catalog: BoundaryTemplateCatalog;
beforeAll(async () => {
  catalog = await loadTemplates('templates');
});

const TEMPLATES = ['readonly', 's3-data-reader', 'developer', 'admin-breakglass'];

const IAM = `arn:aws:iam::${ACCOUNT}`;
const USER = `${IAM}:user/mallory`;
const OTHER_ROLE = `${IAM}:role/app/service-role`;
const FUNCTION = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:app`;
const INSTANCE = `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0123456789abcdef0`;
const CLUSTER = `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/prod`;
const BUCKET = 'arn:aws:s3:::bucket';
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:db-AbCdEf`;
const QUEUE = `arn:aws:sqs:${REGION}:${ACCOUNT}:jobs`;
const BOT_ROLE = `${IAM}:role/aws-access-bot`;
const BOT_POLICY = `${IAM}:policy/aws-access-bot-policy`;
const BROKER = `${IAM}:role/aws-access-broker`;

/** [action, resource, why it outlives the grant]: denied for every template. */
const ESCAPES: [string, string, string][] = [
  // new credentials
  ['iam:CreateUser', USER, 'new credentials'],
  ['iam:CreateAccessKey', USER, 'new credentials'],
  ['iam:CreateLoginProfile', USER, 'new credentials'],
  ['iam:UpdateLoginProfile', USER, 'new credentials'],
  ['iam:CreateServiceSpecificCredential', USER, 'new credentials'],
  ['iam:UploadSSHPublicKey', USER, 'new credentials'],
  ['iam:CreateRole', OTHER_ROLE, 'new credentials'],
  ['sts:GetFederationToken', `arn:aws:sts::${ACCOUNT}:federated-user/mallory`, 'new credentials'],
  ['identitystore:CreateUser', '*', 'new credentials'],
  ['sso:CreateAccountAssignment', '*', 'new credentials'],
  // role chaining
  ['sts:AssumeRole', OTHER_ROLE, 'role chaining'],
  ['sts:AssumeRole', 'arn:aws:iam::222222222222:role/OrganizationAccountAccessRole', 'role chaining'],
  // resource-policy writes
  ['iam:UpdateAssumeRolePolicy', OTHER_ROLE, 'resource-policy write'],
  // the bot's own roles and policies, wherever they live
  ['iam:AttachRolePolicy', BOT_ROLE, "the bot's own role"],
  ['iam:PutRolePolicy', BOT_ROLE, "the bot's own role"],
  ['iam:UpdateAssumeRolePolicy', BOT_ROLE, "the bot's own role"],
  ['iam:CreatePolicyVersion', BOT_POLICY, "the bot's own policy"],
  ['iam:PassRole', BROKER, "the bot's own role"],
  ['sts:AssumeRole', BROKER, "the bot's own role"],
];

/** Resource-policy writes and code under other roles: denied for every template but break-glass. */
const WORKLOAD_ESCAPES: [string, string, string][] = [
  ['s3:PutBucketPolicy', BUCKET, 'resource-policy write'],
  ['lambda:AddPermission', FUNCTION, 'resource-policy write'],
  ['sqs:SetQueueAttributes', QUEUE, 'resource-policy write'],
  ['kms:PutKeyPolicy', KEY, 'resource-policy write'],
  ['secretsmanager:PutResourcePolicy', SECRET, 'resource-policy write'],
  ['eks:CreateAccessEntry', CLUSTER, 'resource-policy write'],
  ['lambda:UpdateFunctionCode', FUNCTION, 'code under another role'],
  ['lambda:UpdateFunctionConfiguration', FUNCTION, 'code under another role'],
  ['ssm:SendCommand', INSTANCE, 'code under another role'],
  ['ssm:StartSession', INSTANCE, 'code under another role'],
  ['ec2:ModifyInstanceAttribute', INSTANCE, 'code under another role (user data)'],
  [
    'ecs:ExecuteCommand',
    `arn:aws:ecs:${REGION}:${ACCOUNT}:task/prod/0123456789abcdef`,
    'code under another role',
  ],
  ['codebuild:StartBuild', `arn:aws:codebuild:${REGION}:${ACCOUNT}:project/app`, 'code under another role'],
  [
    'cloudformation:UpdateStack',
    `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/app/0123abcd-0000-0000-0000-000000000000`,
    'code under another role (stack service role)',
  ],
  ['iam:PassRole', OTHER_ROLE, 'role chaining'],
];

/** Reads that show data or secrets: denied for readonly. */
const SECRET_READS: [string, string, string][] = [
  ['lambda:GetFunctionConfiguration', FUNCTION, 'Lambda environment variables'],
  ['lambda:ListFunctions', '*', 'Lambda environment variables'],
  ['lambda:GetFunction', FUNCTION, 'Lambda code and environment'],
  ['ec2:DescribeInstanceAttribute', INSTANCE, 'EC2 user data'],
  ['ec2:DescribeLaunchTemplateVersions', '*', 'launch template user data'],
  ['ec2:GetLaunchTemplateData', INSTANCE, 'instance user data'],
  ['autoscaling:DescribeLaunchConfigurations', '*', 'launch configuration user data'],
  ['ecs:DescribeTaskDefinition', '*', 'task definition environment'],
  ['apigateway:GET', `arn:aws:apigateway:${REGION}::/apikeys`, 'API key values'],
  ['apigateway:GET', `arn:aws:apigateway:${REGION}::/apikeys/abc123`, 'API key value'],
  ['apigateway:GET', `arn:aws:apigateway:${REGION}::/usageplans/plan1/keys`, 'API key values'],
  ['ec2:GetConsoleOutput', INSTANCE, 'console output'],
  ['ec2:GetConsoleScreenshot', INSTANCE, 'console screenshot'],
  ['s3:GetObject', `${BUCKET}/key.txt`, 'object data'],
  ['secretsmanager:GetSecretValue', SECRET, 'secret value'],
  ['kms:Decrypt', KEY, 'decryption'],
];

async function notAllowed(template: string, list: [string, string, string][]) {
  const allowed: string[] = [];
  for (const [action, resource, why] of list) {
    if ((await decideGrant(catalog, template, action, resource)) === 'Allowed')
      allowed.push(`${action} on ${resource} (${why})`);
  }
  return allowed;
}

async function notDenied(template: string, list: [string, string, Record<string, string>?][]) {
  const denied: string[] = [];
  for (const [action, resource, context] of list) {
    const decision = await decideGrant(catalog, template, action, resource, context);
    if (decision !== 'Allowed') denied.push(`${action} on ${resource}: ${decision}`);
  }
  return denied;
}

describe('no template escapes its time box (policy simulator, as the grant engine renders it)', () => {
  it.each(TEMPLATES)(
    '%s: no new credentials, role chaining, trust changes or changes to the bot',
    async (t) => {
      expect(await notAllowed(t, ESCAPES)).toEqual([]);
    },
  );

  it.each(TEMPLATES.filter((t) => t !== 'admin-breakglass'))(
    '%s: no resource-policy writes, iam:PassRole or code under another role',
    async (t) => {
      expect(await notAllowed(t, WORKLOAD_ESCAPES)).toEqual([]);
    },
  );

  it('readonly reads no Lambda environment, user data, task definitions, API keys, console output or data', async () => {
    expect(await notAllowed('readonly', SECRET_READS)).toEqual([]);
  });
});

describe('what each template is still meant to allow', () => {
  it('readonly still describes and lists configuration', async () => {
    expect(
      await notDenied('readonly', [
        ['ec2:DescribeInstances', '*'],
        ['ec2:DescribeLaunchTemplates', '*'],
        ['ecs:DescribeServices', `arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/web`],
        ['ecs:ListTaskDefinitions', '*'],
        ['lambda:GetPolicy', FUNCTION],
        ['lambda:ListAliases', FUNCTION],
        ['apigateway:GET', `arn:aws:apigateway:${REGION}::/restapis`],
        ['apigateway:GET', `arn:aws:apigateway:${REGION}::/restapis/abc123/stages`],
        ['s3:ListAllMyBuckets', '*'],
        ['iam:GetRole', OTHER_ROLE],
        ['cloudtrail:DescribeTrails', '*'],
        ['secretsmanager:DescribeSecret', SECRET],
      ]),
    ).toEqual([]);
  });

  it('s3-data-reader still reads objects and decrypts them through S3', async () => {
    expect(
      await notDenied('s3-data-reader', [
        ['s3:GetObject', `${BUCKET}/key.txt`],
        ['s3:ListBucket', BUCKET],
        ['kms:Decrypt', KEY, { 'kms:ViaService': `s3.${REGION}.amazonaws.com` }],
      ]),
    ).toEqual([]);
  });

  it('developer still builds and runs workloads', async () => {
    expect(
      await notDenied('developer', [
        ['ec2:RunInstances', `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/*`],
        ['ec2:StopInstances', INSTANCE],
        ['lambda:CreateFunction', FUNCTION],
        ['lambda:InvokeFunction', FUNCTION],
        ['s3:PutObject', `${BUCKET}/key.txt`],
        ['s3:CreateBucket', BUCKET],
        ['dynamodb:PutItem', `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/orders`],
        ['sqs:SendMessage', QUEUE],
        ['ecs:UpdateService', `arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/web`],
        ['logs:GetLogEvents', `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/app:log-stream:x`],
        [
          'cloudformation:CreateStack',
          `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/app/0123abcd-0000-0000-0000-000000000000`,
        ],
        ['secretsmanager:GetSecretValue', SECRET],
      ]),
    ).toEqual([]);
  });

  it('admin-breakglass still handles incidents: contains users and keys, fixes roles and workloads', async () => {
    expect(
      await notDenied('admin-breakglass', [
        ['ec2:TerminateInstances', INSTANCE],
        ['iam:UpdateAccessKey', USER],
        ['iam:DeleteAccessKey', USER],
        ['iam:DeleteLoginProfile', USER],
        ['iam:PutUserPolicy', USER],
        ['iam:PutRolePolicy', OTHER_ROLE],
        ['iam:DetachRolePolicy', OTHER_ROLE],
        ['iam:PassRole', OTHER_ROLE],
        ['iam:GetRole', BOT_ROLE],
        ['s3:PutBucketPolicy', BUCKET],
        ['lambda:UpdateFunctionCode', FUNCTION],
        ['ssm:SendCommand', INSTANCE],
      ]),
    ).toEqual([]);
  });
});
