import { z } from 'zod';
import { durationSchema, withFieldDefaults } from './primitives.js';

export const durationsSchema = withFieldDefaults(
  z
    .object({
      min: durationSchema.default(900).describe('shortest grant anyone may ask for'),
      max: durationSchema.default(43200).describe('longest grant, whatever the template or rule allows'),
      default: durationSchema.default(3600).describe('grant length when the request does not give one'),
      expiryWarning: durationSchema
        .default(600)
        .describe('how long before the end the requester gets the warning DM with Extend'),
      maxExtensions: z
        .number()
        .int()
        .min(0)
        .default(3)
        .describe('how many times one grant may be extended (a template may lower it)'),
      maxTotal: durationSchema.default(86400).describe('longest a grant may last including extensions'),
      provisioningTimeout: durationSchema
        .default(600)
        .describe(
          'an approved request not yet active after this (a crash between approval and grant) is granted again or failed by reconcile',
        ),
    })
    .strict()
    .superRefine((d, ctx) => {
      if (d.min > d.default)
        ctx.addIssue({ code: 'custom', path: ['min'], message: 'must not exceed durations.default' });
      if (d.default > d.max)
        ctx.addIssue({ code: 'custom', path: ['default'], message: 'must not exceed durations.max' });
      if (d.max > d.maxTotal)
        ctx.addIssue({ code: 'custom', path: ['max'], message: 'must not exceed durations.maxTotal' });
    }),
).describe(
  'limits for every grant; templates and rules may only lower them; `min` ≤ `default` ≤ `max` ≤ `maxTotal`',
);
