/**
 * Value types shared by the sections: durations, AWS and Slack ids, cron expressions, and how an
 * object whose fields all have defaults may be left out.
 */
import { z } from 'zod';
import { parseDuration } from '../../domain/duration.js';

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

export const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
export const slackUserId = z
  .string()
  .regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack user id such as U012ABCDEF');
export const slackGroupId = z
  .string()
  .regex(/^S[A-Z0-9]{2,}$/, 'must be a Slack user-group id such as S012ABCDEF');
export const slackChannelId = z
  .string()
  .regex(/^[CGD][A-Z0-9]{2,}$/, 'must be a Slack channel id such as C012ABCDEF');
export const cron = z
  .string()
  .regex(/^(\S+\s+){4,5}\S+$/, 'must be a cron expression with 5 or 6 fields')
  .describe('cron expression (UTC unless schedules.timezone says otherwise)');
export const ouId = z
  .string()
  .regex(/^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$/, 'must be an OU id (ou-…) or root id (r-…)');

/**
 * An object that may be left out because every field has a default of its own: its default is
 * what parsing `{}` through it gives, so no field's default is written twice. `.prefault({})`
 * parses the same way but would change the JSON Schema (docs, Helm values schema): zod shows a
 * prefault as `default: {}` even where it leaves out a default that holds durations (they are
 * seconds after parsing, text before). Parsing `{}` once here also fails at start-up if a field
 * without a default slips into such an object.
 */
export function withFieldDefaults<T extends z.ZodObject>(schema: T): z.ZodDefault<T> {
  schema.parse({});
  return schema.default(() => schema.parse({}) as z.core.util.NoUndefined<z.output<T>>);
}
