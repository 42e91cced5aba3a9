import type { ApprovalRuleConfig } from '../../src/config/schema.js';

/** A fully defaulted approval rule for tests that add rules to the parsed test config. */
export function testRule(partial: Partial<ApprovalRuleConfig> & { name: string }): ApprovalRuleConfig {
  return {
    match: {},
    approvers: { users: [], groups: [] },
    approvalsRequired: 1,
    reason: { required: false },
    autoApprove: false,
    reminderAfter: 1800,
    escalateAfter: 7200,
    ttl: 86400,
    extensions: { autoApprove: false },
    ...partial,
  };
}
