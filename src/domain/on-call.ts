/**
 * On-call schedules in the approval policy: whoever is on call now on a schedule a rule names
 * may approve, and a requester on call now may be granted some templates on some accounts at
 * once. The schedules live in PagerDuty or Opsgenie; the domain only sees the port below, and
 * treats a schedule it cannot read as "not on call" (never an open door).
 */
import type { OnCallProvider, OnCallSchedule } from './policy/on-call-schedule.js';
import type { ApprovalRule } from './policy/rule.js';
import type { TemplateInfo } from './ports.js';

export * from './policy/on-call-schedule.js';

/** What a provider says about a schedule now: the on-call people's e-mails, or why it cannot say. */
export type OnCallAnswer = { ok: true; emails: readonly string[] } | { ok: false; reason: string };

/** The port: who is on call now on one schedule (cached by the adapter). Never throws. */
export interface OnCallDirectory {
  onCallNow(schedule: OnCallSchedule): Promise<OnCallAnswer>;
}

/** Whether a person is on call now on some of the given schedules, and which could not be read. */
export interface OnCallStatus {
  /** The schedules the person is on call on now. */
  onCall: OnCallSchedule[];
  /** The schedules whose provider could not answer (down, timing out, no token). */
  unavailable: OnCallSchedule[];
}

export const NOT_ON_CALL: OnCallStatus = { onCall: [], unavailable: [] };

const PROVIDER_NAMES: Record<OnCallProvider, string> = { pagerduty: 'PagerDuty', opsgenie: 'Opsgenie' };

export function providerName(provider: OnCallProvider): string {
  return PROVIDER_NAMES[provider];
}

/** "PagerDuty schedule PXXXX": how people are told which schedule is meant. */
export function scheduleLabel(s: OnCallSchedule): string {
  return `${providerName(s.provider)} schedule ${s.schedule}`;
}

/**
 * Looks the person up on every schedule by the e-mail of their Slack profile (the providers know
 * people by e-mail; a Slack account without one is on call nowhere). Without a directory (no
 * schedule configured) every schedule is unavailable.
 */
export async function onCallStatus(
  directory: OnCallDirectory | undefined,
  schedules: readonly OnCallSchedule[],
  email: string | undefined,
): Promise<OnCallStatus> {
  if (schedules.length === 0) return NOT_ON_CALL;
  const answers = await Promise.all(
    schedules.map((s): Promise<OnCallAnswer> =>
      directory ? directory.onCallNow(s) : Promise.resolve({ ok: false, reason: 'not configured' }),
    ),
  );
  const wanted = email?.trim().toLowerCase();
  const status: OnCallStatus = { onCall: [], unavailable: [] };
  answers.forEach((answer, i) => {
    const schedule = schedules[i]!;
    if (!answer.ok) status.unavailable.push(schedule);
    else if (wanted && answer.emails.some((e) => e.trim().toLowerCase() === wanted))
      status.onCall.push(schedule);
  });
  return status;
}

/**
 * Whether the rule's on-call auto-approval covers this template on this account (both named in
 * it). Never a break-glass template: those are granted at once only by the rule's `breakGlass`
 * allowance, which is checked first.
 */
export function onCallAutoApproveCovers(
  rule: ApprovalRule,
  template: Pick<TemplateInfo, 'name' | 'breakGlass'>,
  accountId: string,
): boolean {
  const allowance = rule.onCallAutoApprove;
  if (!allowance || template.breakGlass) return false;
  return (
    allowance.templates.some((t) => t.toLowerCase() === template.name.toLowerCase()) &&
    allowance.accounts.includes(accountId)
  );
}

/** The on-call schedules that let the clicker approve under the rule (none unless it names some). */
export function approverSchedules(rule: ApprovalRule | undefined): readonly OnCallSchedule[] {
  return rule?.approvers.onCall ?? [];
}

/** The security page for an on-call auto-approval: who, what, where, and on which schedule. */
export function onCallApprovalNote(schedules: readonly OnCallSchedule[]): string {
  return `auto-approved because the requester is on call now on ${schedules.map(scheduleLabel).join(', ')}`;
}
