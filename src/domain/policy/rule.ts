import type { OnCallSchedule } from './on-call-schedule.js';

/** An approval rule as the policy reads it (the config's rules, account references resolved to ids). */
export interface ApprovalRule {
  name: string;
  match: { accounts?: string[]; ous?: string[]; templates?: string[]; requesterGroups?: string[] };
  /** `onCall`: whoever is on call now on one of these schedules may approve (checked at each click). */
  approvers: { users: string[]; groups: string[]; onCall?: OnCallSchedule[] };
  approvalsRequired: number;
  reason: { required: boolean; pattern?: string; hint?: string };
  maxDuration?: number;
  autoApprove: boolean;
  channel?: string;
  reminderAfter: number;
  escalateAfter: number;
  escalationChannel?: string;
  ttl: number;
  extensions: { autoApprove: boolean };
  /**
   * Break-glass is an explicit allowance of a rule: these break-glass templates are granted at
   * once (security paged, reviewed afterwards) to members of these requester groups only.
   * Everyone else asking for them under this rule goes through its approvers.
   */
  breakGlass?: { templates: string[]; requesterGroups: string[] };
  /**
   * A requester on call now on one of these schedules is granted these templates on these
   * accounts (ids) at once, security paged. Never break-glass templates; a schedule that cannot
   * be read means the rule's approvers decide.
   */
  onCallAutoApprove?: { schedules: OnCallSchedule[]; templates: string[]; accounts: string[] };
}

export interface DurationLimits {
  min: number;
  max: number;
  maxExtensions: number;
  maxTotal: number;
}
