import { z } from 'zod';
import { grantBackendSchema, identityCenterSchema } from './identity-center.js';
import { accountId, durationSchema, withFieldDefaults } from './primitives.js';

export const accountSchema = z
  .object({
    id: accountId.describe('the AWS account id'),
    name: z.string().min(1).optional().describe('display name; defaults to the Organizations name'),
    aliases: z.array(z.string().min(1)).default([]).describe('extra names people may type'),
    ouPath: z.array(z.string()).default([]).describe('static accounts only: OU ids from the root down'),
    grantBackend: grantBackendSchema
      .optional()
      .describe('how grants in this account are made; default `aws.grantBackend` (a template setting wins)'),
  })
  .strict();

export const awsSchema = z
  .object({
    region: z
      .string()
      .default('us-east-1')
      .describe(
        'region written into grants: `${region}` in templates and the CLI profile (the SDK clients use `AWS_REGION`)',
      ),
    brokerRoleName: z
      .string()
      .min(1)
      .default('aws-access-broker')
      .describe('the role the bot assumes in every member account (deploy/aws/broker-role.yaml)'),
    boundaryWriterRoleName: z
      .string()
      .regex(
        /^aws-access-[\w+=,.@-]{1,53}$/,
        'must start with aws-access- (the boundary guard covers role/aws-access-*)',
      )
      .default('aws-access-boundary-writer')
      .describe(
        'the role, next to the broker in every member account, that alone writes the boundary policies `/aws-access/boundary-*` (deploy/aws/broker-role.yaml, `BoundaryWriterRoleName`)',
      ),
    allowGrantsInBotAccount: z
      .boolean()
      .default(false)
      .describe(
        "allow grants in the account of the bot's own credentials (left out of the account list otherwise)",
      ),
    brokerExternalId: z
      .string()
      .optional()
      .describe('external id presented when assuming the broker role; must match the StackSet parameter'),
    brokerSessionDuration: durationSchema
      .default(3600)
      .describe('length of the broker sessions the bot caches per account'),
    delivery: z
      .enum(['assume', 'credentials'])
      .default('assume')
      .describe(
        '`assume`: a switch-role link and CLI profile, no secret through Slack; `credentials`: the bot mints a session and DMs a console sign-in link and env exports',
      ),
    federationEndpoint: z
      .url()
      .default('https://signin.aws.amazon.com/federation')
      .describe('AWS sign-in federation endpoint (console links)'),
    consoleUrl: z
      .url()
      .default('https://console.aws.amazon.com/')
      .describe('where console sign-in links land'),
    organizations: withFieldDefaults(
      z
        .object({
          enabled: z
            .boolean()
            .default(false)
            .describe('discover accounts and OUs from AWS Organizations (cached in Redis)'),
          cacheTtl: durationSchema.default(900).describe('how long the discovered account tree is cached'),
          pageSize: z
            .number()
            .int()
            .min(1)
            .max(20)
            .default(20)
            .describe('page size of Organizations list calls'),
        })
        .strict(),
    ).describe('account discovery'),
    concurrency: withFieldDefaults(
      z
        .object({
          accounts: z
            .number()
            .int()
            .min(1)
            .max(500)
            .default(50)
            .describe(
              'accounts reconcile and the hygiene sweep work on at once, per worker process (the overall bound)',
            ),
          perAccount: z
            .number()
            .int()
            .min(1)
            .max(50)
            .default(4)
            .describe(
              'IAM calls in flight at once in one account, per process (grants and revokes included)',
            ),
          callsPerSecond: z
            .number()
            .min(0)
            .max(1000)
            .default(8)
            .describe(
              'IAM calls started per second in one account, per process, evenly spaced, retries included; keep it under IAM throttling (0: no rate limit, only `perAccount`)',
            ),
        })
        .strict(),
    ).describe(
      'how hard the bot drives IAM across the fleet; IAM throttling past these limits is retried by the SDK with jittered backoff',
    ),
    accounts: z
      .array(accountSchema)
      .default([])
      .describe(
        'accounts people may ask for; with Organizations on, names and aliases on top of what it reports',
      ),
    grantBackend: grantBackendSchema
      .default('iam-role')
      .describe(
        'how grants are made unless an account or template says otherwise: `iam-role` (a role per request) or `identity-center` (a permission-set assignment)',
      ),
    templateGrantBackends: z
      .record(z.string().min(1), grantBackendSchema)
      .default({})
      .describe('template name → grant backend for that template in every account (wins over the account’s)'),
    identityCenter: identityCenterSchema.optional(),
  })
  .strict()
  .superRefine((aws, ctx) => {
    if (aws.identityCenter) return;
    const uses: Array<[PropertyKey[], string]> = [];
    if (aws.grantBackend === 'identity-center') uses.push([['grantBackend'], 'the default backend']);
    aws.accounts.forEach((account, i) => {
      if (account.grantBackend === 'identity-center')
        uses.push([['accounts', i, 'grantBackend'], account.id]);
    });
    for (const [name, backend] of Object.entries(aws.templateGrantBackends)) {
      if (backend === 'identity-center') uses.push([['templateGrantBackends', name], `template ${name}`]);
    }
    for (const [path, who] of uses) {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `${who} uses the identity-center backend, but aws.identityCenter (instanceArn, identityStoreId, region) is not set`,
      });
    }
  })
  .describe('how the bot reaches the member accounts and hands out access');
