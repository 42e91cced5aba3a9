/**
 * Rotation reminders: which owner gets a DM listing which keys, and which keys go to the
 * security channel. Snoozing pauses the DMs for a key; it does not stop the escalation clock,
 * which runs from the first reminder, so a snooze cannot hide a key from the security team.
 */
import type { Finding } from './types.js';

const DAY_MS = 86_400_000;
export const SNOOZE_DAYS = 7;

export interface ReminderState {
  firstRemindedAt?: number;
  snoozedUntil?: number;
  escalatedAt?: number;
}

export interface OwnerReminder {
  slackUserId: string;
  findings: Finding[];
}

export interface ReminderPlan {
  dms: OwnerReminder[];
  /** Owned keys reminded for longer than the escalation period, and keys nobody owns. */
  escalations: Finding[];
  snoozed: Finding[];
}

export function planReminders(
  findings: Finding[],
  state: ReadonlyMap<string, ReminderState>,
  now: Date,
  options: { escalateAfterDays: number },
): ReminderPlan {
  const byOwner = new Map<string, Finding[]>();
  const escalations: Finding[] = [];
  const snoozed: Finding[] = [];
  for (const finding of findings.filter((f) => f.kind === 'key-past-rotation')) {
    const s = state.get(finding.id) ?? {};
    if (finding.owner?.kind !== 'slack') {
      if (s.escalatedAt === undefined) escalations.push(finding);
      continue;
    }
    if (
      s.firstRemindedAt !== undefined &&
      s.escalatedAt === undefined &&
      now.getTime() - s.firstRemindedAt >= options.escalateAfterDays * DAY_MS
    ) {
      escalations.push(finding);
    }
    if (s.snoozedUntil !== undefined && s.snoozedUntil > now.getTime()) {
      snoozed.push(finding);
      continue;
    }
    const list = byOwner.get(finding.owner.slackUserId) ?? [];
    list.push(finding);
    byOwner.set(finding.owner.slackUserId, list);
  }
  const dms = [...byOwner.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([slackUserId, list]) => ({ slackUserId, findings: list }));
  return { dms, escalations, snoozed };
}

export function snoozeUntil(now: Date, days = SNOOZE_DAYS): Date {
  return new Date(now.getTime() + days * DAY_MS);
}
