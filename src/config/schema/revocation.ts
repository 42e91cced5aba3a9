import { z } from 'zod';
import { withFieldDefaults } from './primitives.js';

export const revocationSchema = withFieldDefaults(
  z
    .object({
      workerConcurrency: z
        .number()
        .int()
        .min(1)
        .max(2000)
        .default(512)
        .describe(
          'revoke and expiry-warning jobs one worker process runs at once; a job waiting for its account (below) holds one of these, so keep it well above `perAccount` × the accounts that end grants together',
        ),
      concurrency: z
        .number()
        .int()
        .min(1)
        .max(1000)
        .default(100)
        .describe('revocations one worker process asks AWS for at once, all accounts together'),
      perAccount: z
        .number()
        .int()
        .min(1)
        .max(50)
        .default(1)
        .describe(
          'revocations one worker process runs at once in one AWS account (a revocation is about 10 IAM calls, and IAM throttles per account)',
        ),
      throttleRetries: z
        .number()
        .int()
        .min(0)
        .max(20)
        .default(8)
        .describe(
          'times a revocation AWS throttled is tried again in the worker, after pausing its account with exponential back-off and jitter, before the job itself retries it',
        ),
    })
    .strict(),
).describe(
  'how many grants the worker role revokes at once, in all and per account, and how it backs off when AWS throttles (limits per worker process)',
);
