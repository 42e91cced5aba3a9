import { z } from 'zod';
import { durationSchema, withFieldDefaults } from './primitives.js';

export const requestsSchema = withFieldDefaults(
  z
    .object({
      maxOpenPerRequester: z
        .number()
        .int()
        .min(1)
        .default(5)
        .describe(
          'most open requests (waiting, approved, active, revocation failed) one person may have at once; a further request is refused until they cancel or end one (a multi-account request counts once)',
        ),
      maxAccountsPerRequest: z
        .number()
        .int()
        .min(1)
        .max(100)
        .default(20)
        .describe(
          "most accounts one request may cover (a comma-separated list or `ou:<OU>` in `/aws-access`, or the form's multi-select, after OUs are resolved); a request for more is refused, saying how many it named",
        ),
      retainFinished: durationSchema
        .default(2_592_000)
        .describe(
          'how long a finished request (revoked, denied, cancelled, expired, failed) is kept in Redis before it expires; the audit stream keeps its history',
        ),
    })
    .strict(),
).describe(
  'limits on requests: how many one person may have open, how many accounts one may cover, and how long finished ones are kept',
);
