/**
 * The weekly digest to the security channel, computed from stored findings and compared with
 * the previous week's snapshot. Re-running in the same week overwrites that week's snapshot
 * and still compares with the week before.
 */
import { isoWeek, localDay } from '../domain/hygiene/calendar.js';
import { computeDigest, type Digest } from '../domain/hygiene/digest.js';
import { digestMessage } from '../slack/hygiene/messages.js';
import { accountNames, type HygieneContext } from './hygiene-context.js';

export async function postWeeklyDigest(ctx: HygieneContext): Promise<Digest> {
  const now = new Date(ctx.clock.now());
  const week = isoWeek(localDay(now, ctx.config.schedules.timezone));
  const previous = await ctx.store.previousSnapshot(week);
  const { digest, snapshot } = computeDigest(await ctx.store.allFindings(), previous, week, now);
  await ctx.slack.chat.postMessage({
    channel: ctx.config.slack.channels.security,
    ...digestMessage(digest, accountNames(ctx.config)),
  });
  await ctx.store.saveSnapshot(snapshot);
  ctx.logger.info(
    { job: 'hygiene-digest', week, total: digest.total, change: digest.totalChange },
    'digest posted',
  );
  return digest;
}
