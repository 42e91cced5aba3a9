/**
 * E-mail → Slack user id for the sweep's `email` owner tags, from one paged `users.list` instead
 * of one `users.lookupByEmail` per tagged IAM user: the number of Slack calls depends on the
 * size of the workspace (one call per 200 people), not on the number of IAM users, and the
 * result is cached in Redis for a few hours so every account swept that day shares it.
 * `users.lookupByEmail` is Tier 3 (about 50 a minute); `users.list` is Tier 2 but needs only
 * a handful of pages. `profile.email` is returned with users:read.email.
 */
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../logger.js';
import type { HygieneStore } from '../store/hygiene-store.js';
import { isRateLimited } from './slack-calls.js';

/** Slack's recommended page size for users.list. */
export const USERS_LIST_PAGE_SIZE = 200;
/** Long enough for every account of one daily sweep, short enough that the next day reloads. */
export const SLACK_DIRECTORY_TTL_S = 6 * 3600;
/** A rate-limited page is retried after Retry-After (capped) this many times, then the job fails. */
const MAX_RATE_LIMIT_WAITS = 10;
const MAX_WAIT_MS = 60_000;

export interface SlackDirectoryDeps {
  slack: WebClient;
  store: HygieneStore;
  logger: Logger;
  now: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Every active person's e-mail (lower case) → Slack user id. Deactivated accounts and bots are
 * left out: a key whose owner left is reported as unowned rather than DMed into the void.
 */
export async function listSlackDirectory(deps: SlackDirectoryDeps): Promise<Map<string, string>> {
  const sleep = deps.sleep ?? defaultSleep;
  const byEmail = new Map<string, string>();
  let cursor: string | undefined;
  let pages = 0;
  let waits = 0;
  for (;;) {
    let res;
    try {
      res = await deps.slack.users.list({
        limit: USERS_LIST_PAGE_SIZE,
        ...(cursor ? { cursor } : {}),
      });
    } catch (error) {
      // Waiting here keeps the pages already read; failing the job would start over.
      if (!isRateLimited(error) || waits >= MAX_RATE_LIMIT_WAITS) throw error;
      waits += 1;
      deps.logger.warn(
        { retryAfterS: error.retryAfter, pages, waits },
        'users.list was rate-limited; waiting before the next page',
      );
      await sleep(Math.min(Math.max(error.retryAfter, 1) * 1000, MAX_WAIT_MS));
      continue; // the same page again
    }
    pages += 1;
    for (const member of res.members ?? []) {
      const email = member.profile?.email?.trim().toLowerCase();
      if (!email || !member.id || member.deleted || member.is_bot) continue;
      byEmail.set(email, member.id);
    }
    cursor = res.response_metadata?.next_cursor || undefined;
    if (!cursor) break;
  }
  deps.logger.info({ pages, people: byEmail.size }, 'Slack directory read for e-mail owner tags');
  return byEmail;
}

/** Loads in flight per store, so parallel sweeps in one worker process page Slack once. */
const inFlight = new WeakMap<HygieneStore, Promise<Map<string, string>>>();

/**
 * Slack ids for `emails`: from the Redis cache, else one paged directory read that is cached.
 * A dry run reads the cache and Slack but writes nothing, and treats a Slack failure (no token)
 * as "not found" so it still prints findings.
 */
export async function resolveSlackIdsByEmail(
  deps: SlackDirectoryDeps,
  emails: string[],
  options: { dryRun: boolean },
): Promise<Map<string, string | undefined>> {
  if (emails.length === 0) return new Map();
  const cached = await deps.store.slackIdsByEmail(emails);
  if (cached) return cached;
  let directory: Map<string, string>;
  if (options.dryRun) {
    try {
      directory = await listSlackDirectory(deps);
    } catch (error) {
      deps.logger.warn({ err: error }, 'dry run: Slack directory unavailable; e-mail owners left unknown');
      return new Map();
    }
  } else {
    let load = inFlight.get(deps.store);
    if (!load) {
      load = (async () => {
        const read = await listSlackDirectory(deps);
        await deps.store.saveSlackDirectory(read, SLACK_DIRECTORY_TTL_S, deps.now());
        return read;
      })().finally(() => inFlight.delete(deps.store));
      inFlight.set(deps.store, load);
    }
    directory = await load;
  }
  return new Map(emails.map((email) => [email, directory.get(email)]));
}
