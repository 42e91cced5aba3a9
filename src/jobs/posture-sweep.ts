/**
 * The posture jobs on the hygiene queue: `posture-account` (one account's review, fanned out by
 * the daily sweep next to `sweep-account`, job id `posture-sweep-<account>-<day>`) and the
 * posture part of the weekly digest. Built once per worker from the hygiene context.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AccountClients } from '../aws/account-clients.js';
import type { GrantNaming } from '../aws/posture-expectations.js';
import { resolveSlackIdsByEmail } from '../domain/hygiene/owner-emails.js';
import { postPostureDigest } from '../domain/posture/digest.js';
import type { PostureDigest, PostureNotifier } from '../domain/posture/ports.js';
import { sweepPosture, type PostureSweepResult } from '../domain/posture/sweep-posture.js';
import { PostureStore } from '../store/posture-store.js';
import { RedisRequestStore } from '../store/request-store.js';
import type { HygieneContext } from './hygiene-context.js';
import { postureReviewDeps } from './posture-review.js';

export const POSTURE_ACCOUNT_JOB = 'posture-account';

export function postureJobId(accountId: string, day: string): string {
  return `posture-sweep-${accountId}-${day}`;
}

/** What the worker role adds for posture: the grant naming (templates) and the Slack side. */
export interface PostureJobInput {
  naming: GrantNaming;
  notifier: PostureNotifier;
}

export interface PostureJobs {
  sweep(accountId: string): Promise<PostureSweepResult>;
  digest(): Promise<PostureDigest>;
}

export function postureJobs(
  ctx: HygieneContext,
  connection: Redis,
  accounts: AccountClients,
  input: PostureJobInput,
): PostureJobs {
  const prefix = ctx.config.redis.prefix;
  const store = new PostureStore(connection, prefix);
  const requests = new RedisRequestStore(connection, prefix, ctx.clock);
  const log = ctx.log.child({ component: 'posture' });
  return {
    sweep: (accountId) =>
      sweepPosture(
        {
          review: postureReviewDeps({
            config: ctx.config,
            accounts,
            naming: input.naming,
            listByState: (state, limit) => requests.listByState(state, limit),
            // The credential sweep's cached directory read: one per day for both reviews.
            slackIdsByEmail: (emails) => resolveSlackIdsByEmail(ctx, emails, { dryRun: false }),
            log,
            now: new Date(ctx.clock.now()),
          }),
          store,
          notifier: input.notifier,
          audit: ctx.audit,
          clock: ctx.clock,
          log,
          newId: randomUUID,
        },
        accountId,
      ),
    digest: () =>
      postPostureDigest({
        store,
        notifier: input.notifier,
        clock: ctx.clock,
        log,
        timeZone: ctx.config.schedules.timezone,
      }),
  };
}
