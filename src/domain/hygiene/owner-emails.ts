/**
 * Slack ids for the sweep's `email` owner tags: one read of the workspace directory, cached in
 * the store for a few hours so every account swept that day shares it, instead of one lookup
 * per tagged IAM user.
 */
import type { HygieneDeps, HygieneStore } from './ports.js';

/** Long enough for every account of one daily sweep, short enough that the next day reloads. */
export const SLACK_DIRECTORY_TTL_S = 6 * 3600;

/** Loads in flight per store, so parallel sweeps in one worker process read the directory once. */
const inFlight = new WeakMap<HygieneStore, Promise<Map<string, string>>>();

/**
 * Slack ids for `emails`: from the cache, else one directory read that is cached. A dry run
 * reads the cache and the directory but writes nothing, and treats a directory failure (no
 * Slack token) as "not found" so it still prints findings.
 */
export async function resolveSlackIdsByEmail(
  deps: Pick<HygieneDeps, 'store' | 'people' | 'clock' | 'log'>,
  emails: string[],
  options: { dryRun: boolean },
): Promise<Map<string, string | undefined>> {
  if (emails.length === 0) return new Map();
  const cached = await deps.store.slackIdsByEmail(emails);
  if (cached) return cached;
  let directory: Map<string, string>;
  if (options.dryRun) {
    try {
      directory = await deps.people.listByEmail();
    } catch (error) {
      deps.log.warn({ err: error }, 'dry run: Slack directory unavailable; e-mail owners left unknown');
      return new Map();
    }
  } else {
    let load = inFlight.get(deps.store);
    if (!load) {
      load = (async () => {
        const read = await deps.people.listByEmail();
        await deps.store.saveSlackDirectory(read, SLACK_DIRECTORY_TTL_S, deps.clock.now());
        return read;
      })().finally(() => inFlight.delete(deps.store));
      inFlight.set(deps.store, load);
    }
    directory = await load;
  }
  return new Map(emails.map((email) => [email, directory.get(email)]));
}
