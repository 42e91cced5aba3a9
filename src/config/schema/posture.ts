import { z } from 'zod';
import { POSTURE_KINDS } from '../../domain/posture/kinds.js';
import { accountId, durationSchema, slackChannelId, withFieldDefaults } from './primitives.js';

/**
 * Where a finding is known and accepted: by ARN pattern (`*` and `?` as in IAM's ArnLike) or by
 * tag, for some kinds or all. A reason is required, so every silence says why.
 */
const exemptionSchema = z
  .object({
    arn: z
      .string()
      .regex(/^arn:[*?a-z-]*:/, 'must be an ARN pattern such as arn:aws:iam::*:role/ci-*')
      .optional()
      .describe('ARN pattern (`*`, `?` wildcards) of the users, groups, roles or policies exempted'),
    tag: z
      .object({
        key: z.string().min(1).max(128).describe('the tag key'),
        value: z.string().max(256).optional().describe('any value when left out'),
      })
      .strict()
      .optional()
      .describe('exempts users and roles carrying this tag'),
    kinds: z
      .array(z.enum(POSTURE_KINDS))
      .min(1)
      .optional()
      .describe('the finding kinds exempted (all when left out)'),
    reason: z.string().trim().min(1).describe('why the finding is accepted; shown in `posture` output'),
  })
  .strict()
  .refine((e) => e.arn !== undefined || e.tag !== undefined, {
    message: 'an exemption needs `arn` or `tag`',
  });

export const postureSchema = withFieldDefaults(
  z
    .object({
      enabled: z.boolean().default(true).describe('review IAM posture in the daily hygiene sweep'),
      unusedRoleDays: z
        .number()
        .int()
        .positive()
        .default(90)
        .describe('a role not used this long (RoleLastUsed, or creation when never used) is a finding'),
      trustedAccounts: z
        .array(accountId)
        .default([])
        .describe('accounts a role may trust without an ExternalId or org condition, besides aws.accounts'),
      exemptions: z
        .array(exemptionSchema)
        .default([])
        .describe('accepted posture findings, by ARN pattern or tag, each with a reason'),
      alerts: withFieldDefaults(
        z
          .object({
            queueUrl: z
              .url()
              .optional()
              .describe('the SQS queue the EventBridge rule fills; no change alerts when left out'),
            channel: slackChannelId
              .optional()
              .describe('where change alerts go (slack.channels.security when left out)'),
            events: z
              .array(z.string().regex(/^[A-Za-z]+$/, 'must be an IAM API action name such as CreateUser'))
              .default([
                'CreateUser',
                'CreateAccessKey',
                'AttachUserPolicy',
                'PutUserPolicy',
                'CreateLoginProfile',
                'DeactivateMFADevice',
                'UpdateAssumeRolePolicy',
                'DeleteRolePermissionsBoundary',
              ])
              .describe('IAM events posted to the security channel (changes under /aws-access/ always are)'),
            groupWindow: durationSchema
              .default(60)
              .describe('events arriving within this window are posted together'),
            maxPostsPerMinute: z
              .number()
              .int()
              .positive()
              .default(6)
              .describe('at most this many alert posts a minute; the rest wait for the next window'),
          })
          .strict(),
      ).describe('IAM change alerts: EventBridge → SQS → the security channel'),
    })
    .strict(),
).describe('IAM posture review (daily) and IAM change alerts');
