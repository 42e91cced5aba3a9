import { z } from 'zod';
import { withFieldDefaults } from './primitives.js';

export const hygieneSchema = withFieldDefaults(
  z
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
      enforceUnowned: z.boolean().default(false).describe('enforce: also deactivate unused keys nobody owns'),
      passwordPolicy: withFieldDefaults(
        z
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
          .strict(),
      ).describe("the minimum each account's IAM password policy must meet"),
    })
    .strict(),
).describe('credential hygiene: the daily sweep, reminders and optional enforcement');
