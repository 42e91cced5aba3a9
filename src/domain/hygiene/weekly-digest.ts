/**
 * The weekly digest to the security channel, computed from stored findings and compared with
 * the previous week's snapshot. Re-running in the same week overwrites that week's snapshot
 * and still compares with the week before.
 */
import { isoWeek, localDay } from './calendar.js';
import { computeDigest, type Digest } from './digest.js';
import type { HygieneDeps } from './ports.js';

export async function postWeeklyDigest(
  deps: Pick<HygieneDeps, 'store' | 'notifier' | 'clock' | 'log' | 'settings'>,
): Promise<Digest> {
  const now = new Date(deps.clock.now());
  const week = isoWeek(localDay(now, deps.settings.timeZone));
  const previous = await deps.store.previousSnapshot(week);
  const { digest, snapshot } = computeDigest(await deps.store.allFindings(), previous, week, now);
  await deps.notifier.digest(digest);
  await deps.store.saveSnapshot(snapshot);
  deps.log.info(
    { job: 'hygiene-digest', week, total: digest.total, change: digest.totalChange },
    'digest posted',
  );
  return digest;
}
