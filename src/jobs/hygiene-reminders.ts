/**
 * Daily rotation reminders from the stored findings (no AWS calls): one DM per owner listing
 * their keys past rotation age, never two reminders for the same key on one local day, and an
 * escalation to the security channel for keys reminded too long ago or owned by nobody.
 */
import { randomUUID } from 'node:crypto';
import { localDay } from '../domain/hygiene/calendar.js';
import { planReminders, SNOOZE_DAYS } from '../domain/hygiene/reminders.js';
import type { Finding } from '../domain/hygiene/types.js';
import { escalationMessage, rotationReminderMessage } from '../slack/hygiene/messages.js';
import { accountNames, type HygieneContext } from './hygiene-context.js';

export interface ReminderRunResult {
  day: string;
  /** Slack user id → finding ids reminded in this run. */
  reminded: Record<string, string[]>;
  escalated: string[];
  snoozed: string[];
}

export async function sendRotationReminders(ctx: HygieneContext): Promise<ReminderRunResult> {
  const now = new Date(ctx.clock.now());
  const day = localDay(now, ctx.config.schedules.timezone);
  const log = ctx.logger.child({ job: 'rotation-reminders', day });
  const findings = (await ctx.store.allFindings()).flatMap((a) => a.findings);
  const pastAge = findings.filter((f) => f.kind === 'key-past-rotation');
  const states = await ctx.store.getReminderStates(pastAge.map((f) => f.id));
  const plan = planReminders(pastAge, states, now, ctx.config.hygiene);
  const names = accountNames(ctx.config);
  const result: ReminderRunResult = {
    day,
    reminded: {},
    escalated: [],
    snoozed: plan.snoozed.map((f) => f.id),
  };

  for (const dm of plan.dms) {
    const claimed: Finding[] = [];
    for (const f of dm.findings) if (await ctx.store.claimDailyReminder(day, f.id)) claimed.push(f);
    if (claimed.length === 0) continue;
    const id = randomUUID();
    try {
      await ctx.store.saveReminderMessage({
        id,
        slackUserId: dm.slackUserId,
        findingIds: claimed.map((f) => f.id),
        day,
      });
      const res = await ctx.slack.chat.postMessage({
        channel: dm.slackUserId,
        ...rotationReminderMessage({
          reminderId: id,
          findings: claimed,
          accountNames: names,
          rotationDays: ctx.config.hygiene.rotationDays,
          snoozeDays: SNOOZE_DAYS,
        }),
      });
      await ctx.store.saveReminderMessage({
        id,
        slackUserId: dm.slackUserId,
        findingIds: claimed.map((f) => f.id),
        day,
        channel: res.channel,
        ts: res.ts,
      });
    } catch (error) {
      // Give the day's claims back so BullMQ's retry can send this DM.
      for (const f of claimed) await ctx.store.releaseDailyReminder(day, f.id);
      throw error;
    }
    for (const f of claimed) await ctx.store.markReminded(f.id, now.getTime());
    result.reminded[dm.slackUserId] = claimed.map((f) => f.id);
  }

  if (plan.escalations.length > 0) {
    await ctx.slack.chat.postMessage({
      channel: ctx.config.slack.channels.security,
      ...escalationMessage(plan.escalations, names, ctx.config.hygiene.escalateAfterDays),
    });
    for (const f of plan.escalations) {
      if (!(await ctx.store.markEscalated(f.id, now.getTime()))) continue;
      result.escalated.push(f.id);
      await ctx.audit({
        type: 'hygiene.reminder-escalated',
        actor: 'aws-access-bot',
        accountId: f.accountId,
        userName: f.userName,
        findingId: f.id,
        detail: f.owner?.kind === 'slack' ? `owner <@${f.owner.slackUserId}> did not rotate` : 'no owner',
      });
    }
  }
  log.info(
    {
      dms: Object.keys(result.reminded).length,
      escalated: result.escalated.length,
      snoozed: result.snoozed.length,
    },
    'rotation reminders sent',
  );
  return result;
}
