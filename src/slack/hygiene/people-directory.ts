/**
 * E-mail → Slack user id for the sweep's `email` owner tags, from one paged `users.list` instead
 * of one `users.lookupByEmail` per tagged IAM user: the number of Slack calls depends on the
 * size of the workspace (one call per 200 people), not on the number of IAM users (the domain
 * caches the result for the day's sweep). `users.lookupByEmail` is Tier 3 (about 50 a minute);
 * `users.list` is Tier 2 but needs only a handful of pages. `profile.email` is returned with
 * users:read.email.
 */
import type { WebClient } from '@slack/web-api';
import type { PeopleDirectory } from '../../domain/hygiene/ports.js';
import type { Logger } from '../../logger.js';
import { isRateLimited } from '../slack-client.js';

/** Slack's recommended page size for users.list. */
export const USERS_LIST_PAGE_SIZE = 200;
/** A rate-limited page is retried after Retry-After (capped) this many times, then the job fails. */
const MAX_RATE_LIMIT_WAITS = 10;
const MAX_WAIT_MS = 60_000;

export interface SlackPeopleDirectoryOptions {
  logger: Logger;
  /** Waits out a rate-limited page; tests shorten it. */
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function retryAfterOf(error: unknown): number | undefined {
  return isRateLimited(error) ? (error.retryAfter ?? 1) : undefined;
}

/**
 * Every active person's e-mail (lower case) → Slack user id. Deactivated accounts and bots are
 * left out: a key whose owner left is reported as unowned rather than DMed into the void.
 */
export async function listSlackDirectory(
  slack: WebClient,
  options: SlackPeopleDirectoryOptions,
): Promise<Map<string, string>> {
  const sleep = options.sleep ?? defaultSleep;
  const byEmail = new Map<string, string>();
  let cursor: string | undefined;
  let pages = 0;
  let waits = 0;
  for (;;) {
    let res;
    try {
      res = await slack.users.list({
        limit: USERS_LIST_PAGE_SIZE,
        ...(cursor ? { cursor } : {}),
      });
    } catch (error) {
      // Waiting here keeps the pages already read; failing the job would start over.
      const retryAfter = retryAfterOf(error);
      if (retryAfter === undefined || waits >= MAX_RATE_LIMIT_WAITS) throw error;
      waits += 1;
      options.logger.warn(
        { retryAfterS: retryAfter, pages, waits },
        'users.list was rate-limited; waiting before the next page',
      );
      await sleep(Math.min(Math.max(retryAfter, 1) * 1000, MAX_WAIT_MS));
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
  options.logger.info({ pages, people: byEmail.size }, 'Slack directory read for e-mail owner tags');
  return byEmail;
}

/** {@link PeopleDirectory} over the Slack workspace. */
export class SlackPeopleDirectory implements PeopleDirectory {
  constructor(
    private readonly slack: WebClient,
    private readonly options: SlackPeopleDirectoryOptions,
  ) {}

  listByEmail(): Promise<Map<string, string>> {
    return listSlackDirectory(this.slack, this.options);
  }
}
