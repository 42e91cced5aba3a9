import { z } from 'zod';
import { slackChannelId, slackGroupId } from './primitives.js';

export const slackSchema = z
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
  .describe('the Slack side: command, channels, who may ask and who administers');
