/** An approval rule as the policy reads it (the config's rules, account references resolved to ids). */
export interface ApprovalRule {
  name: string;
  match: { accounts?: string[]; ous?: string[]; templates?: string[]; requesterGroups?: string[] };
  approvers: { users: string[]; groups: string[] };
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
}

export interface DurationLimits {
  min: number;
  max: number;
  maxExtensions: number;
  maxTotal: number;
}
