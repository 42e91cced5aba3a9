/** The posture part of the weekly digest: counts per kind and the change since last week. */
import { isoWeek, localDay } from '../hygiene/calendar.js';
import type { HygieneLog } from '../hygiene/ports.js';
import type { Clock } from '../ports.js';
import { POSTURE_KINDS } from './kinds.js';
import type { AccountPosture, PostureCounts, PostureDigest, PostureNotifier, PostureStore } from './ports.js';

export function emptyPostureCounts(): PostureCounts {
  return Object.fromEntries(POSTURE_KINDS.map((k) => [k, 0])) as PostureCounts;
}

export function computePostureDigest(
  accounts: AccountPosture[],
  previous: { week: string; counts: PostureCounts } | undefined,
  week: string,
  accepted: number,
): PostureDigest {
  const counts = emptyPostureCounts();
  for (const a of accounts) for (const f of a.findings) counts[f.kind] += 1;
  const total = POSTURE_KINDS.reduce((n, k) => n + counts[k], 0);
  let change: PostureCounts | undefined;
  if (previous) {
    change = emptyPostureCounts();
    for (const k of POSTURE_KINDS) change[k] = counts[k] - (previous.counts[k] ?? 0);
  }
  return { week, previousWeek: previous?.week, counts, total, change, accepted };
}

export async function postPostureDigest(deps: {
  store: PostureStore;
  notifier: PostureNotifier;
  clock: Clock;
  log: HygieneLog;
  timeZone: string;
}): Promise<PostureDigest> {
  const week = isoWeek(localDay(new Date(deps.clock.now()), deps.timeZone));
  const accounts = await deps.store.allFindings();
  const previous = await deps.store.previousSnapshot(week);
  const digest = computePostureDigest(
    accounts,
    previous,
    week,
    await deps.store.acceptedInForce(deps.clock.now()),
  );
  await deps.notifier.digest(digest);
  await deps.store.saveSnapshot({ week, counts: digest.counts });
  deps.log.info({ job: 'posture-digest', week, total: digest.total }, 'posture digest posted');
  return digest;
}
