/**
 * The configuration file's schema, one file per top-level section. Every object is strict, so a
 * misspelt key is an error that names the field rather than a silently ignored setting. Durations
 * are written as text (`30m`, `2h`) and arrive as seconds. Each section checks its own cross-field
 * rules; only a rule spanning two sections is checked here.
 */
import { z } from 'zod';
import { approvalRuleSchema, approvalSchema, checkAccountReferences } from './approval.js';
import { auditSchema } from './audit.js';
import { accountSchema, awsSchema } from './aws.js';
import { durationsSchema } from './durations.js';
import { hygieneSchema } from './hygiene.js';
import { identitiesSchema } from './identities.js';
import { onCallSchema } from './on-call.js';
import { postureSchema } from './posture.js';
import { redisSchema } from './redis.js';
import { requestsSchema } from './requests.js';
import { revocationSchema } from './revocation.js';
import { schedulesSchema } from './schedules.js';
import { slackSchema } from './slack.js';
import { templatesSchema } from './templates.js';

export { accountSchema, approvalRuleSchema };
export { durationSchema } from './primitives.js';

export const configSchema = z
  .object({
    slack: slackSchema,
    aws: awsSchema,
    identities: identitiesSchema,
    templates: templatesSchema,
    durations: durationsSchema,
    approval: approvalSchema,
    onCall: onCallSchema,
    schedules: schedulesSchema,
    hygiene: hygieneSchema,
    posture: postureSchema,
    requests: requestsSchema,
    revocation: revocationSchema,
    redis: redisSchema,
    audit: auditSchema,
  })
  .strict()
  .superRefine((config, ctx) => checkAccountReferences(config.approval, config.aws.accounts, ctx));

export type AppConfig = z.output<typeof configSchema>;
export type ApprovalRuleConfig = z.output<typeof approvalRuleSchema>;
export type AccountConfig = z.output<typeof accountSchema>;
