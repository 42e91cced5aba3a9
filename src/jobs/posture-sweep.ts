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
import type { PostureDigest, PostureNotifier, PostureSweepDeps } from '../domain/posture/ports.js';
import { checkAccessRoleDrift } from '../domain/posture/check-drift.js';
import { sweepPosture, type PostureSweepResult } from '../domain/posture/sweep-posture.js';
import { PostureStore } from '../store/posture-store.js';
import { RedisRequestStore } from '../store/request-store.js';
import type { HygieneContext } from './hygiene-context.js';
import { postureReviewDeps } from './posture-review.js';

export const POSTURE_ACCOUNT_JOB = 'posture-account';
/** The drift check of every account, on the reconcile schedule (`schedules.reconcile`). */
export const POSTURE_DRIFT_JOB = 'posture-drift';
export const POSTURE_DRIFT_SCHEDULER = 'posture-drift';

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
  /** Drift of the /aws-access/ roles of one account or every one; returns the new drift told. */
  checkDrift(accountId?: string): Promise<number>;
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
  const deps = async (): Promise<PostureSweepDeps> => ({
    review: postureReviewDeps({
      // Accounts Organizations reports are the bot's too: trusting them is not an open trust.
      knownAccounts: await ctx.listAccountIds(),
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
  });
  return {
    sweep: async (accountId) => sweepPosture(await deps(), accountId),
    checkDrift: async (only) => {
      const d = await deps();
      let told = 0;
      for (const accountId of only ? [only] : await ctx.listAccountIds()) {
        try {
          told += (await checkAccessRoleDrift(d, accountId)).length;
        } catch (error) {
          // One unreachable account does not hide drift in the others; the next run retries it.
          log.warn({ err: error, accountId }, 'drift check failed for an account');
        }
      }
      return told;
    },
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
