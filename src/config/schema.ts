/**
 * The configuration file's schema. Every object is strict, so a misspelt key is an error that
 * names the field rather than a silently ignored setting. Durations are written as text
 * (`30m`, `2h`) and arrive as seconds.
 */
import { z } from 'zod';
import { parseDuration } from '../domain/duration.js';

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
    id: accountId,
    name: z.string().min(1).optional().describe('display name; defaults to the Organizations name'),
    aliases: z.array(z.string().min(1)).default([]).describe('extra names people may type'),
    ouPath: z.array(z.string()).default([]).describe('static accounts only: OU ids from the root down'),
  })
  .strict();

export const approvalRuleSchema = z
  .object({
    name: z.string().min(1),
    match: z
      .object({
        accounts: z.array(z.string()).optional().describe('account ids or aliases; omitted = any'),
        ous: z.array(ouId).optional().describe('OU ids; nested OUs are covered'),
        templates: z.array(z.string()).optional(),
        requesterGroups: z.array(slackGroupId).optional(),
      })
      .strict()
      .default({}),
    approvers: z
      .object({
        users: z.array(slackUserId).default([]),
        groups: z.array(slackGroupId).default([]),
      })
      .strict()
      .default({ users: [], groups: [] }),
    approvalsRequired: z.number().int().min(1).max(10).default(1),
    reason: z
      .object({
        required: z.boolean().default(true),
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
          .optional(),
        hint: z.string().optional().describe('shown when the pattern does not match'),
      })
      .strict()
      .default({ required: true }),
    maxDuration: duration.optional(),
    autoApprove: z.boolean().default(false),
    channel: slackChannelId
      .optional()
      .describe('where the approval message goes; default slack.channels.approvals'),
    reminderAfter: duration.default(parseDuration('30m')),
    escalateAfter: duration.default(parseDuration('2h')),
    escalationChannel: slackChannelId.optional(),
    ttl: duration.default(parseDuration('24h')).describe('a pending request expires after this'),
    extensions: z
      .object({
        autoApprove: z.boolean().default(false),
      })
      .strict()
      .default({ autoApprove: false }),
  })
  .strict();

export const configSchema = z
  .object({
    slack: z
      .object({
        command: z.string().startsWith('/').default('/aws-access'),
        channels: z
          .object({
            approvals: slackChannelId,
            audit: slackChannelId,
            security: slackChannelId,
          })
          .strict(),
        adminGroups: z.array(slackGroupId).default([]).describe('may revoke any grant'),
        requesterGroups: z
          .array(slackGroupId)
          .default([])
          .describe('when set, only members of these groups may request'),
        auditBatchSeconds: z.number().positive().default(5),
      })
      .strict(),
    aws: z
      .object({
        region: z.string().default('us-east-1'),
        brokerRoleName: z.string().min(1).default('aws-access-broker'),
        brokerExternalId: z.string().optional(),
        brokerSessionDuration: duration.default(3600),
        delivery: z.enum(['assume', 'credentials']).default('assume'),
        federationEndpoint: z.url().default('https://signin.aws.amazon.com/federation'),
        consoleUrl: z.url().default('https://console.aws.amazon.com/'),
        organizations: z
          .object({
            enabled: z.boolean().default(false),
            cacheTtl: duration.default(900),
            pageSize: z.number().int().min(1).max(20).default(20),
          })
          .strict()
          .default({ enabled: false, cacheTtl: 900, pageSize: 20 }),
        accounts: z.array(accountSchema).default([]),
      })
      .strict(),
    identities: z
      .object({
        byEmail: z
          .object({
            enabled: z.boolean().default(false),
            principalTemplate: z
              .string()
              .default('arn:aws:iam::${identity_account_id}:user/${email}')
              .describe('principal ARN built from the Slack e-mail'),
            identityAccountId: accountId.optional(),
          })
          .strict()
          .default({
            enabled: false,
            principalTemplate: 'arn:aws:iam::${identity_account_id}:user/${email}',
          }),
        map: z
          .record(
            slackUserId,
            z
              .object({
                principal: z
                  .string()
                  .regex(/^arn:aws[a-z-]*:(iam|sts)::\d{12}:.+/, 'must be an IAM principal ARN'),
                email: z.email().optional(),
              })
              .strict(),
          )
          .default({}),
      })
      .strict()
      .default({
        byEmail: { enabled: false, principalTemplate: 'arn:aws:iam::${identity_account_id}:user/${email}' },
        map: {},
      }),
    templates: z
      .object({
        directory: z.string().default('templates'),
      })
      .strict()
      .default({ directory: 'templates' }),
    durations: z
      .object({
        min: duration.default(900),
        max: duration.default(43200),
        default: duration.default(3600),
        expiryWarning: duration.default(600),
        maxExtensions: z.number().int().min(0).default(3),
        maxTotal: duration.default(86400),
      })
      .strict()
      .default({
        min: 900,
        max: 43200,
        default: 3600,
        expiryWarning: 600,
        maxExtensions: 3,
        maxTotal: 86400,
      }),
    approval: z
      .object({
        rules: z.array(approvalRuleSchema).min(1, 'needs at least one rule'),
      })
      .strict(),
    schedules: z
      .object({
        timezone: z.string().default('UTC'),
        reconcile: cron.default('*/5 * * * *'),
        hygiene: cron.default('0 6 * * *'),
        rotationReminders: cron.default('0 9 * * *'),
        digest: cron.default('0 8 * * 1'),
      })
      .strict()
      .default({
        timezone: 'UTC',
        reconcile: '*/5 * * * *',
        hygiene: '0 6 * * *',
        rotationReminders: '0 9 * * *',
        digest: '0 8 * * 1',
      }),
    hygiene: z
      .object({
        mode: z.enum(['report', 'enforce']).default('report'),
        unusedKeyDays: z.number().int().positive().default(90),
        rotationDays: z.number().int().positive().default(90),
        unusedPasswordDays: z.number().int().positive().default(90),
        gracePeriodDays: z.number().int().min(0).default(7),
        escalateAfterDays: z.number().int().min(0).default(14),
        enforceUnowned: z.boolean().default(false),
        passwordPolicy: z
          .object({
            minimumLength: z.number().int().min(6).max(128).default(14),
            requireSymbols: z.boolean().default(true),
            requireNumbers: z.boolean().default(true),
            requireUppercase: z.boolean().default(true),
            requireLowercase: z.boolean().default(true),
            maxAgeDays: z.number().int().min(0).default(90),
            reusePrevention: z.number().int().min(0).max(24).default(24),
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
          }),
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
      }),
    redis: z
      .object({
        prefix: z
          .string()
          .regex(/^[A-Za-z0-9:{}_-]+$/, 'letters, digits, : _ - and {} (Redis Cluster hash tag) only')
          .default('aab')
          .describe('prefix for every key and queue; wrap in {} on Redis Cluster'),
      })
      .strict()
      .default({ prefix: 'aab' }),
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
    });
  });

export type AppConfig = z.output<typeof configSchema>;
export type ApprovalRuleConfig = z.output<typeof approvalRuleSchema>;
export type AccountConfig = z.output<typeof accountSchema>;
