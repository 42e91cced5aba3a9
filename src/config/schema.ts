/**
 * The configuration file's schema. Every object is strict, so a misspelt key is an error that
 * names the field rather than a silently ignored setting. Durations are written as text
 * (`30m`, `2h`) and arrive as seconds.
 */
import { z } from 'zod';
import { resolveAccountRef } from '../domain/approval-policy.js';
import { parseDuration } from '../domain/duration.js';
import {
  isRoleArn,
  PRINCIPAL_ARN_RE,
  PRINCIPAL_TEMPLATE_VARIABLES,
  principalKey,
} from '../domain/identity.js';

/** A duration written `30m`, `2h`, `1h30m`, `1d` (or a number of seconds), parsed to seconds. */
export const durationSchema = z
  .string()
  .or(
    z
      .number()
      .int()
      .positive()
      .transform((n) => `${n}s`),
  )
  .transform((text, ctx) => {
    try {
      return parseDuration(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  })
  .describe('a duration such as 30m, 2h, 1h30m or 1d');
const duration = durationSchema;

const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
const slackUserId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack user id such as U012ABCDEF');
const slackGroupId = z.string().regex(/^S[A-Z0-9]{2,}$/, 'must be a Slack user-group id such as S012ABCDEF');
const slackChannelId = z
  .string()
  .regex(/^[CGD][A-Z0-9]{2,}$/, 'must be a Slack channel id such as C012ABCDEF');
const cron = z
  .string()
  .regex(/^(\S+\s+){4,5}\S+$/, 'must be a cron expression with 5 or 6 fields')
  .describe('cron expression (UTC unless schedules.timezone says otherwise)');
const ouId = z
  .string()
  .regex(/^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$/, 'must be an OU id (ou-…) or root id (r-…)');

export const accountSchema = z
  .object({
    id: accountId.describe('the AWS account id'),
    name: z.string().min(1).optional().describe('display name; defaults to the Organizations name'),
    aliases: z.array(z.string().min(1)).default([]).describe('extra names people may type'),
    ouPath: z.array(z.string()).default([]).describe('static accounts only: OU ids from the root down'),
  })
  .strict();

export const approvalRuleSchema = z
  .object({
    name: z.string().min(1).describe('unique name, shown on the request and in the audit log'),
    match: z
      .object({
        accounts: z
          .array(z.string())
          .optional()
          .describe(
            'account ids, or names/aliases given in `aws.accounts` (matched by id; Organizations names are never used); omitted = any',
          ),
        ous: z.array(ouId).optional().describe('OU ids; nested OUs are covered'),
        templates: z.array(z.string()).optional().describe('template names; omitted = any'),
        requesterGroups: z
          .array(slackGroupId)
          .optional()
          .describe('Slack user groups the requester must belong to; omitted = anyone'),
      })
      .strict()
      .default({})
      .describe('what the rule covers; every given criterion must match, an empty match covers everything'),
    approvers: z
      .object({
        users: z.array(slackUserId).default([]).describe('Slack users who may approve'),
        groups: z
          .array(slackGroupId)
          .default([])
          .describe('Slack user groups whose members may approve (looked up at click time)'),
      })
      .strict()
      .default({ users: [], groups: [] })
      .describe('who may approve; checked again at every click; needs users or groups unless `autoApprove`'),
    approvalsRequired: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(1)
      .describe('distinct approvals needed (the requester never counts)'),
    reason: z
      .object({
        required: z.boolean().default(true).describe('a reason must be given'),
        pattern: z
          .string()
          .refine((p) => {
            try {
              new RegExp(p);
              return true;
            } catch {
              return false;
            }
          }, 'must be a valid regular expression')
          .optional()
          .describe('regular expression the reason must match, e.g. `^(INC|CHG)-\\d+`'),
        hint: z.string().optional().describe('shown when the pattern does not match'),
      })
      .strict()
      .default({ required: true })
      .describe('what the reason must look like'),
    maxDuration: duration.optional().describe('longest grant under this rule'),
    autoApprove: z
      .boolean()
      .default(false)
      .describe(
        'grant at once without approvers (sandbox self-service); never applies to break-glass templates (see `breakGlass`)',
      ),
    breakGlass: z
      .object({
        templates: z
          .array(z.string().min(1))
          .min(1)
          .describe(
            'break-glass templates (`breakGlass: true` in their file) this rule lets be granted at once',
          ),
        requesterGroups: z
          .array(slackGroupId)
          .min(1, 'break-glass must be limited to named requester groups')
          .describe('only members of these Slack user groups may use break-glass under this rule'),
      })
      .strict()
      .optional()
      .describe(
        'explicit break-glass allowance: granted at once to these groups, security paged, reviewed afterwards by the approvers; everyone else goes through the approvers',
      ),
    channel: slackChannelId
      .optional()
      .describe('where the approval message goes; default slack.channels.approvals'),
    reminderAfter: duration
      .default(parseDuration('30m'))
      .describe('remind the approvers when still pending after this'),
    escalateAfter: duration
      .default(parseDuration('2h'))
      .describe(
        'escalate (to `escalationChannel`) when still pending after this; not earlier than `reminderAfter`',
      ),
    escalationChannel: slackChannelId
      .optional()
      .describe('where escalations go; default `slack.channels.security`'),
    ttl: duration.default(parseDuration('24h')).describe('a pending request expires after this'),
    extensions: z
      .object({
        autoApprove: z.boolean().default(false).describe('extensions are granted without a new approval'),
      })
      .strict()
      .default({ autoApprove: false })
      .describe('how extensions of a grant under this rule are decided'),
  })
  .strict();

export const configSchema = z
  .object({
    slack: z
      .object({
        command: z
          .string()
          .startsWith('/')
          .default('/aws-access')
          .describe('the slash command, as registered in the Slack app manifest'),
        channels: z
          .object({
            approvals: slackChannelId.describe(
              'where approval requests are posted, unless a rule names its own channel',
            ),
            audit: slackChannelId.describe('every state change, posted in batches'),
            security: slackChannelId.describe(
              'break-glass pages, revocation failures, hygiene findings nobody owns, the weekly digest',
            ),
          })
          .strict()
          .describe('channel ids (not names); invite the bot to each'),
        adminGroups: z.array(slackGroupId).default([]).describe('may revoke any grant'),
        requesterGroups: z
          .array(slackGroupId)
          .default([])
          .describe('when set, only members of these groups may request'),
        auditBatchSeconds: z
          .number()
          .positive()
          .default(5)
          .describe('audit events are collected for this many seconds and posted as one message'),
      })
      .strict()
      .describe('the Slack side: command, channels, who may ask and who administers'),
    aws: z
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
        brokerSessionDuration: duration
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
        organizations: z
          .object({
            enabled: z
              .boolean()
              .default(false)
              .describe('discover accounts and OUs from AWS Organizations (cached in Redis)'),
            cacheTtl: duration.default(900).describe('how long the discovered account tree is cached'),
            pageSize: z
              .number()
              .int()
              .min(1)
              .max(20)
              .default(20)
              .describe('page size of Organizations list calls'),
          })
          .strict()
          .default({ enabled: false, cacheTtl: 900, pageSize: 20 })
          .describe('account discovery'),
        accounts: z
          .array(accountSchema)
          .default([])
          .describe(
            'accounts people may ask for; with Organizations on, names and aliases on top of what it reports',
          ),
      })
      .strict()
      .describe('how the bot reaches the member accounts and hands out access'),
    identities: z
      .object({
        byEmail: z
          .object({
            enabled: z
              .boolean()
              .default(false)
              .describe(
                'map a Slack user to an AWS principal by their Slack profile e-mail when they are not in the map',
              ),
            principalTemplate: z
              .string()
              .default('arn:aws:iam::${identity_account_id}:user/${email}')
              .describe(
                'principal ARN built from the Slack e-mail with `${email}` and `${identity_account_id}`; a role ARN here is pinned to sessions named after the e-mail (Identity Center)',
              ),
            identityAccountId: accountId
              .optional()
              .describe('the account holding the IAM users people sign in as (`${identity_account_id}`)'),
          })
          .strict()
          .default({
            enabled: false,
            principalTemplate: 'arn:aws:iam::${identity_account_id}:user/${email}',
          })
          .describe('fallback mapping from the Slack profile e-mail'),
        map: z
          .record(
            slackUserId,
            z
              .object({
                principal: z
                  .string()
                  .regex(
                    PRINCIPAL_ARN_RE,
                    'must be an IAM user or role ARN, or an assumed-role session ARN (arn:aws:sts::…:assumed-role/…/…)',
                  )
                  .describe(
                    'IAM user, role or assumed-role session ARN the requester signs in as; one person per principal',
                  ),
                sessionName: z
                  .string()
                  .regex(
                    /^[\w+=,.@-]{2,64}$/,
                    'must be a role session name (2-64 of letters, digits and +=,.@_-)',
                  )
                  .optional()
                  .describe(
                    "required when `principal` is a role shared by many people (e.g. an Identity Center permission-set role): this person's session name, which the grant's trust policy pins",
                  ),
                email: z
                  .email()
                  .optional()
                  .describe("the person's e-mail (also used to find key owners tagged `email`)"),
              })
              .strict()
              .describe('one person, keyed by their Slack user id'),
          )
          .default({})
          .describe('Slack user id → the AWS principal a granted role trusts'),
      })
      .strict()
      .default({
        byEmail: { enabled: false, principalTemplate: 'arn:aws:iam::${identity_account_id}:user/${email}' },
        map: {},
      })
      .describe('who a Slack user is in AWS: the principal a granted role trusts'),
    templates: z
      .object({
        directory: z
          .string()
          .default('templates')
          .describe('folder of boundary templates (`*.yaml`), relative to the config file'),
      })
      .strict()
      .default({ directory: 'templates' })
      .describe('permission-boundary templates'),
    durations: z
      .object({
        min: duration.default(900).describe('shortest grant anyone may ask for'),
        max: duration.default(43200).describe('longest grant, whatever the template or rule allows'),
        default: duration.default(3600).describe('grant length when the request does not give one'),
        expiryWarning: duration
          .default(600)
          .describe('how long before the end the requester gets the warning DM with Extend'),
        maxExtensions: z
          .number()
          .int()
          .min(0)
          .default(3)
          .describe('how many times one grant may be extended (a template may lower it)'),
        maxTotal: duration.default(86400).describe('longest a grant may last including extensions'),
        provisioningTimeout: duration
          .default(600)
          .describe(
            'an approved request not yet active after this (a crash between approval and grant) is granted again or failed by reconcile',
          ),
      })
      .strict()
      .default({
        min: 900,
        max: 43200,
        default: 3600,
        expiryWarning: 600,
        maxExtensions: 3,
        maxTotal: 86400,
        provisioningTimeout: 600,
      })
      .describe(
        'limits for every grant; templates and rules may only lower them; `min` ≤ `default` ≤ `max` ≤ `maxTotal`',
      ),
    approval: z
      .object({
        rules: z
          .array(approvalRuleSchema)
          .min(1, 'needs at least one rule')
          .describe(
            'approval rules, first match wins; a request no rule matches is refused; rule names are unique',
          ),
      })
      .strict()
      .describe('who approves what'),
    schedules: z
      .object({
        timezone: z
          .string()
          .default('UTC')
          .describe('IANA time zone the cron expressions (and "one reminder per day") use'),
        reconcile: cron
          .default('*/5 * * * *')
          .describe('find orphaned or overdue `/aws-access/` roles and revoke them'),
        hygiene: cron.default('0 6 * * *').describe('daily credential sweep of every account'),
        rotationReminders: cron
          .default('0 9 * * *')
          .describe('DM key owners whose keys are past rotation age'),
        digest: cron
          .default('0 8 * * 1')
          .describe('weekly hygiene and access digest to the security channel'),
      })
      .strict()
      .default({
        timezone: 'UTC',
        reconcile: '*/5 * * * *',
        hygiene: '0 6 * * *',
        rotationReminders: '0 9 * * *',
        digest: '0 8 * * 1',
      })
      .describe('Job Schedulers of the worker role (cron, five fields, or six with seconds)'),
    hygiene: z
      .object({
        mode: z
          .enum(['report', 'enforce'])
          .default('report')
          .describe(
            '`report` only reports; `enforce` also deactivates unused keys after a warning and the grace period',
          ),
        unusedKeyDays: z
          .number()
          .int()
          .positive()
          .default(90)
          .describe('an access key unused this long is a finding'),
        rotationDays: z
          .number()
          .int()
          .positive()
          .default(90)
          .describe('an access key older than this is past rotation age'),
        unusedPasswordDays: z
          .number()
          .int()
          .positive()
          .default(90)
          .describe('a console password unused this long is a finding'),
        gracePeriodDays: z
          .number()
          .int()
          .min(0)
          .default(7)
          .describe('enforce: days between the warning and deactivating an unused key'),
        escalateAfterDays: z
          .number()
          .int()
          .min(0)
          .default(14)
          .describe('escalate a key to the security channel this long after its first reminder'),
        enforceUnowned: z
          .boolean()
          .default(false)
          .describe('enforce: also deactivate unused keys nobody owns'),
        passwordPolicy: z
          .object({
            minimumLength: z
              .number()
              .int()
              .min(6)
              .max(128)
              .default(14)
              .describe('password policy check: minimum length at least this'),
            requireSymbols: z.boolean().default(true).describe('password policy check: symbols required'),
            requireNumbers: z.boolean().default(true).describe('password policy check: numbers required'),
            requireUppercase: z
              .boolean()
              .default(true)
              .describe('password policy check: upper-case letters required'),
            requireLowercase: z
              .boolean()
              .default(true)
              .describe('password policy check: lower-case letters required'),
            maxAgeDays: z
              .number()
              .int()
              .min(0)
              .default(90)
              .describe('password policy check: passwords expire within this many days (0: not checked)'),
            reusePrevention: z
              .number()
              .int()
              .min(0)
              .max(24)
              .default(24)
              .describe('password policy check: remembers at least this many previous passwords'),
          })
          .strict()
          .default({
            minimumLength: 14,
            requireSymbols: true,
            requireNumbers: true,
            requireUppercase: true,
            requireLowercase: true,
            maxAgeDays: 90,
            reusePrevention: 24,
          })
          .describe("the minimum each account's IAM password policy must meet"),
      })
      .strict()
      .default({
        mode: 'report',
        unusedKeyDays: 90,
        rotationDays: 90,
        unusedPasswordDays: 90,
        gracePeriodDays: 7,
        escalateAfterDays: 14,
        enforceUnowned: false,
        passwordPolicy: {
          minimumLength: 14,
          requireSymbols: true,
          requireNumbers: true,
          requireUppercase: true,
          requireLowercase: true,
          maxAgeDays: 90,
          reusePrevention: 24,
        },
      })
      .describe('credential hygiene: the daily sweep, reminders and optional enforcement'),
    requests: z
      .object({
        maxOpenPerRequester: z
          .number()
          .int()
          .min(1)
          .default(5)
          .describe(
            'most open requests (waiting, approved, active, revocation failed) one person may have at once; a further request is refused until they cancel or end one',
          ),
        retainFinished: duration
          .default(2_592_000)
          .describe(
            'how long a finished request (revoked, denied, cancelled, expired, failed) is kept in Redis before it expires; the audit stream keeps its history',
          ),
      })
      .strict()
      .default({ maxOpenPerRequester: 5, retainFinished: 2_592_000 })
      .describe('limits on requests: how many one person may have open, and how long finished ones are kept'),
    redis: z
      .object({
        prefix: z
          .string()
          .regex(/^[A-Za-z0-9:{}_-]+$/, 'letters, digits, : _ - and {} (Redis Cluster hash tag) only')
          .default('aab')
          .describe('prefix for every key and queue; wrap in {} on Redis Cluster'),
      })
      .strict()
      .default({ prefix: 'aab' })
      .describe('Redis layout (the URL comes from `REDIS_URL`)'),
    audit: z
      .object({
        anchor: z
          .object({
            bucket: z
              .string()
              .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name')
              .describe('S3 bucket created with Object Lock enabled (deploy/aws/audit-anchor-bucket.yaml)'),
            prefix: z
              .string()
              .regex(/^([A-Za-z0-9!_.*'()-]+\/)*$/, 'empty, or path segments each ending in /')
              .default('audit-anchors/')
              .describe('key prefix of the anchor objects, ending in /'),
            interval: duration
              .default(parseDuration('5m'))
              .describe(
                'how often the worker anchors the chain head; entries newer than the last anchor can still be cut unseen',
              ),
            retention: duration
              .default(parseDuration('400d'))
              .describe('Object Lock retain-until of each anchor, from when it is written'),
            mode: z
              .enum(['GOVERNANCE', 'COMPLIANCE'])
              .default('COMPLIANCE')
              .describe(
                'Object Lock mode: COMPLIANCE cannot be lifted by anyone; GOVERNANCE by holders of s3:BypassGovernanceRetention',
              ),
          })
          .strict()
          .optional()
          .describe(
            'anchor the audit chain head in S3 under Object Lock; omitted: anchoring is off and `audit verify` cannot detect a truncated or deleted log',
          ),
      })
      .strict()
      .default({})
      .describe('the audit trail (a keyed hash chain in Redis; the key comes from `AWS_ACCESS_HMAC_KEY`)'),
  })
  .strict()
  .superRefine((config, ctx) => {
    const d = config.durations;
    if (d.min > d.default)
      ctx.addIssue({
        code: 'custom',
        path: ['durations', 'min'],
        message: 'must not exceed durations.default',
      });
    if (d.default > d.max)
      ctx.addIssue({
        code: 'custom',
        path: ['durations', 'default'],
        message: 'must not exceed durations.max',
      });
    if (d.max > d.maxTotal)
      ctx.addIssue({
        code: 'custom',
        path: ['durations', 'max'],
        message: 'must not exceed durations.maxTotal',
      });
    const seen = new Set<string>();
    config.approval.rules.forEach((rule, i) => {
      if (seen.has(rule.name))
        ctx.addIssue({
          code: 'custom',
          path: ['approval', 'rules', i, 'name'],
          message: `duplicate rule name "${rule.name}"`,
        });
      seen.add(rule.name);
      if (!rule.autoApprove && rule.approvers.users.length === 0 && rule.approvers.groups.length === 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['approval', 'rules', i, 'approvers'],
          message: 'needs users or groups unless autoApprove is true',
        });
      }
      if (rule.escalateAfter < rule.reminderAfter) {
        ctx.addIssue({
          code: 'custom',
          path: ['approval', 'rules', i, 'escalateAfter'],
          message: 'must not be earlier than reminderAfter',
        });
      }
      rule.match.accounts?.forEach((ref, j) => {
        if (!resolveAccountRef(ref, config.aws.accounts)) {
          ctx.addIssue({
            code: 'custom',
            path: ['approval', 'rules', i, 'match', 'accounts', j],
            message: `"${ref}" is neither a 12-digit account id nor the name or alias of exactly one account in aws.accounts (rules match accounts by id; Organizations names are never used)`,
          });
        }
      });
      const covered = rule.match.templates?.map((t) => t.toLowerCase());
      rule.breakGlass?.templates.forEach((t, j) => {
        if (covered && !covered.includes(t.toLowerCase())) {
          ctx.addIssue({
            code: 'custom',
            path: ['approval', 'rules', i, 'breakGlass', 'templates', j],
            message: `"${t}" is not in this rule's match.templates, so the allowance could never apply`,
          });
        }
      });
    });
    checkIdentities(config.identities, ctx);
  });

/**
 * One person, one principal: two Slack users mapped to one principal (or one e-mail) would be
 * two approvers of one request, or approve each other's. A role shared by many people needs the
 * person's session name, or the grant would trust everyone holding that role.
 */
function checkIdentities(
  identities: {
    map: Record<string, { principal: string; email?: string; sessionName?: string }>;
    byEmail: { principalTemplate: string };
  },
  ctx: z.RefinementCtx,
): void {
  const byPrincipal = new Map<string, string>();
  const byEmail = new Map<string, string>();
  for (const [userId, entry] of Object.entries(identities.map)) {
    if (isRoleArn(entry.principal) && !entry.sessionName) {
      ctx.addIssue({
        code: 'custom',
        path: ['identities', 'map', userId, 'sessionName'],
        message:
          "is required for a role principal: a role is shared by everyone who can assume it, so the grant must trust only this person's sessions",
      });
    }
    const key = principalKey(entry.principal, entry.sessionName);
    const other = byPrincipal.get(key);
    if (other) {
      ctx.addIssue({
        code: 'custom',
        path: ['identities', 'map', userId, 'principal'],
        message: `${userId} and ${other} are mapped to the same principal: two Slack accounts of one person would count as two approvers`,
      });
    } else byPrincipal.set(key, userId);
    if (entry.email) {
      const email = entry.email.toLowerCase();
      const same = byEmail.get(email);
      if (same) {
        ctx.addIssue({
          code: 'custom',
          path: ['identities', 'map', userId, 'email'],
          message: `${userId} and ${same} have the same e-mail: one person may have one Slack account in the map`,
        });
      } else byEmail.set(email, userId);
    }
  }
  const known: readonly string[] = PRINCIPAL_TEMPLATE_VARIABLES;
  for (const [, name] of identities.byEmail.principalTemplate.matchAll(/\$\{([^}]*)\}/g)) {
    if (!known.includes(name!)) {
      ctx.addIssue({
        code: 'custom',
        path: ['identities', 'byEmail', 'principalTemplate'],
        message: `unknown variable \${${name}}: use ${known.map((v) => `\${${v}}`).join(' or ')}${
          name === 'email_local'
            ? ' (${email_local} was removed: alice@corp and alice@personal would become one user)'
            : ''
        }`,
      });
    }
  }
}

export type AppConfig = z.output<typeof configSchema>;
export type ApprovalRuleConfig = z.output<typeof approvalRuleSchema>;
export type AccountConfig = z.output<typeof accountSchema>;
