import { z } from 'zod';
import { cron, withFieldDefaults } from './primitives.js';

export const schedulesSchema = withFieldDefaults(
  z
    .object({
      timezone: z
        .string()
        .default('UTC')
        .describe('IANA time zone the cron expressions (and "one reminder per day") use'),
      reconcile: cron
        .default('*/5 * * * *')
        .describe('find orphaned or overdue `/aws-access/` roles and revoke them'),
      hygiene: cron.default('0 6 * * *').describe('daily credential sweep of every account'),
      rotationReminders: cron.default('0 9 * * *').describe('DM key owners whose keys are past rotation age'),
      digest: cron.default('0 8 * * 1').describe('weekly hygiene and access digest to the security channel'),
    })
    .strict(),
).describe('Job Schedulers of the worker role (cron, five fields, or six with seconds)');
