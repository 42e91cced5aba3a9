/**
 * Daily rotation reminders from the stored findings (no AWS calls): one DM per owner listing
 * their keys past rotation age, never two reminders for the same key on one local day, and an
 * escalation to the security channel for keys reminded too long ago or owned by nobody.
 */
import { localDay } from './calendar.js';
import type { HygieneDeps } from './ports.js';
import { planReminders } from './reminders.js';
import type { Finding } from './types.js';

export interface ReminderRunResult {
  day: string;
  /** Slack user id → finding ids reminded in this run. */
  reminded: Record<string, string[]>;
  escalated: string[];
  snoozed: string[];
}

export async function remindKeyOwners(
  deps: Pick<HygieneDeps, 'store' | 'notifier' | 'audit' | 'clock' | 'log' | 'settings'>,
  newId: () => string,
): Promise<ReminderRunResult> {
  const now = new Date(deps.clock.now());
  const day = localDay(now, deps.settings.timeZone);
  const log = deps.log.child({ job: 'rotation-reminders', day });
  const findings = (await deps.store.allFindings()).flatMap((a) => a.findings);
  const pastAge = findings.filter((f) => f.kind === 'key-past-rotation');
  const states = await deps.store.getReminderStates(pastAge.map((f) => f.id));
  const plan = planReminders(pastAge, states, now, deps.settings);
  const result: ReminderRunResult = {
    day,
    reminded: {},
    escalated: [],
    snoozed: plan.snoozed.map((f) => f.id),
  };

  for (const dm of plan.dms) {
    const claimed: Finding[] = [];
    for (const f of dm.findings) if (await deps.store.claimDailyReminder(day, f.id)) claimed.push(f);
    if (claimed.length === 0) continue;
    const message = { id: newId(), slackUserId: dm.slackUserId, findingIds: claimed.map((f) => f.id), day };
    try {
      await deps.store.saveReminderMessage(message);
      const ref = await deps.notifier.rotationReminder(dm.slackUserId, message.id, claimed);
      await deps.store.saveReminderMessage({ ...message, channel: ref.channel, ts: ref.ts });
    } catch (error) {
      // Give the day's claims back so the retried job can send this DM.
      for (const f of claimed) await deps.store.releaseDailyReminder(day, f.id);
      throw error;
    }
    for (const f of claimed) await deps.store.markReminded(f.id, now.getTime());
    result.reminded[dm.slackUserId] = message.findingIds;
  }

  if (plan.escalations.length > 0) {
    await deps.notifier.escalation(plan.escalations);
    for (const f of plan.escalations) {
      if (!(await deps.store.markEscalated(f.id, now.getTime()))) continue;
      result.escalated.push(f.id);
      await deps.audit({
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
