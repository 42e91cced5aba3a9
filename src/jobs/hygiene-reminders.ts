/** The daily `rotation-reminders` job (see `domain/hygiene/remind-owners.ts`). */
import { randomUUID } from 'node:crypto';
import { remindKeyOwners, type ReminderRunResult } from '../domain/hygiene/remind-owners.js';
import type { HygieneContext } from './hygiene-context.js';

export type { ReminderRunResult };

export function sendRotationReminders(ctx: HygieneContext): Promise<ReminderRunResult> {
  return remindKeyOwners(ctx, randomUUID);
}
