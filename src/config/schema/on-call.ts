import { z } from 'zod';
import { ON_CALL_PROVIDERS } from '../../domain/policy/on-call-schedule.js';
import { durationSchema, withFieldDefaults } from './primitives.js';

/** A schedule named in a rule (`approvers.onCall`, `onCallAutoApprove.schedules`). */
export const onCallScheduleSchema = z
  .object({
    provider: z
      .enum(ON_CALL_PROVIDERS)
      .describe('`pagerduty` (token: PAGERDUTY_API_TOKEN) or `opsgenie` (key: OPSGENIE_API_KEY)'),
    schedule: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .describe(
        'PagerDuty: the schedule id (PXXXXXX). Opsgenie: the schedule id (a UUID) or its name (anything else is looked up by name)',
      ),
  })
  .strict();

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

const providerSchema = (name: string, url: string) =>
  withFieldDefaults(
    z
      .object({
        apiUrl: z
          .url({ protocol: /^https?$/ })
          .refine(
            (u) => u.startsWith('https:') || LOOPBACK.test(new URL(u).hostname),
            'must be https (http only on loopback): the API token travels with every call',
          )
          .default(url)
          .describe(`${name} API base URL (https; http only on loopback, for tests)`),
      })
      .strict(),
  );

export const onCallSchema = withFieldDefaults(
  z
    .object({
      pagerduty: providerSchema('PagerDuty REST API v2', 'https://api.pagerduty.com').describe(
        'PagerDuty (REST API v2 `GET /oncalls`)',
      ),
      opsgenie: providerSchema('Opsgenie', 'https://api.opsgenie.com').describe(
        'Opsgenie (`GET /v2/schedules/{id}/on-calls`); the EU instance is https://api.eu.opsgenie.com',
      ),
      cacheFor: durationSchema
        .default(60)
        .describe('how long an answer about a schedule is reused (per process) before it is asked again'),
      timeoutMs: z
        .number()
        .int()
        .min(100)
        .max(10_000)
        .default(2_000)
        .describe('how long one call to a provider may take'),
      attempts: z
        .number()
        .int()
        .min(1)
        .max(5)
        .default(3)
        .describe(
          'tries per look-up on a timeout, 429 or 5xx (with backoff); then the schedule counts as unavailable',
        ),
    })
    .strict(),
).describe(
  'on-call schedules that rules name as approvers or for auto-approval; a schedule that cannot be read never approves anyone',
);
