/**
 * The Snooze button of a rotation reminder. Only the person the reminder was sent to may
 * snooze it, checked at click time; snoozing pauses that DM's keys and is audited per key.
 * Escalation to the security team is not paused (see `planReminders`).
 */
import type { HygieneDeps, ReminderMessage } from './ports.js';
import { snoozeUntil } from './reminders.js';

export type SnoozeOutcome =
  /** The reminder expired from the store (or never existed). */
  | { outcome: 'unknown-reminder' }
  | { outcome: 'not-owner'; owner: string }
  | { outcome: 'snoozed'; until: Date; reminder: ReminderMessage };

export async function snoozeReminder(
  deps: Pick<HygieneDeps, 'store' | 'audit' | 'clock'>,
  reminderId: string | undefined,
  slackUserId: string,
): Promise<SnoozeOutcome> {
  const reminder = reminderId ? await deps.store.getReminderMessage(reminderId) : undefined;
  if (!reminder) return { outcome: 'unknown-reminder' };
  if (reminder.slackUserId !== slackUserId) return { outcome: 'not-owner', owner: reminder.slackUserId };
  const until = snoozeUntil(new Date(deps.clock.now()));
  await deps.store.snooze(reminder.findingIds, until.getTime());
  for (const findingId of reminder.findingIds) {
    await deps.audit({
      type: 'hygiene.reminder-snoozed',
      actor: slackUserId,
      findingId,
      detail: `rotation reminder snoozed until ${until.toISOString()}`,
    });
  }
  return { outcome: 'snoozed', until, reminder };
}
