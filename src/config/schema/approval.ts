import { z } from 'zod';
import { resolveAccountRef } from '../../domain/approval-policy.js';
import { parseDuration } from '../../domain/duration.js';
import type { accountSchema } from './aws.js';
import { onCallScheduleSchema } from './on-call.js';
import {
  durationSchema,
  ouId,
  slackChannelId,
  slackGroupId,
  slackUserId,
  withFieldDefaults,
} from './primitives.js';

export const approvalRuleSchema = z
  .object({
    name: z.string().min(1).describe('unique name, shown on the request and in the audit log'),
    match: withFieldDefaults(
      z
        .object({
          accounts: z
            .array(z.string())
            .optional()
            .describe(
              'account ids, or names/aliases given in `aws.accounts` (matched by id; Organizations names are never used); omitted = any',
            ),
          ous: z.array(ouId).optional().describe('OU ids; nested OUs are covered'),
          templates: z.array(z.string()).optional().describe('template names; omitted = any'),
          requesterGroups: z
            .array(slackGroupId)
            .optional()
            .describe('Slack user groups the requester must belong to; omitted = anyone'),
        })
        .strict(),
    ).describe('what the rule covers; every given criterion must match, an empty match covers everything'),
    approvers: withFieldDefaults(
      z
        .object({
          users: z.array(slackUserId).default([]).describe('Slack users who may approve'),
          groups: z
            .array(slackGroupId)
            .default([])
            .describe('Slack user groups whose members may approve (looked up at click time)'),
          onCall: z
            .array(onCallScheduleSchema)
            .max(10)
            .optional()
            .describe(
              'on-call schedules: whoever is on call on one of them at the moment of the click may approve (matched to Slack by the e-mail of their Slack profile); a schedule that cannot be read approves nobody',
            ),
        })
        .strict(),
    ).describe(
      'who may approve; checked again at every click; needs users, groups or onCall unless `autoApprove`',
    ),
    approvalsRequired: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(1)
      .describe('distinct approvals needed (the requester never counts)'),
    reason: withFieldDefaults(
      z
        .object({
          required: z.boolean().default(true).describe('a reason must be given'),
          pattern: z
            .string()
            .refine((p) => {
              try {
                new RegExp(p);
                return true;
              } catch {
                return false;
              }
            }, 'must be a valid regular expression')
            .optional()
            .describe('regular expression the reason must match, e.g. `^(INC|CHG)-\\d+`'),
          hint: z.string().optional().describe('shown when the pattern does not match'),
        })
        .strict(),
    ).describe('what the reason must look like'),
    maxDuration: durationSchema.optional().describe('longest grant under this rule'),
    autoApprove: z
      .boolean()
      .default(false)
      .describe(
        'grant at once without approvers (sandbox self-service); never applies to break-glass templates (see `breakGlass`)',
      ),
    breakGlass: z
      .object({
        templates: z
          .array(z.string().min(1))
          .min(1)
          .describe(
            'break-glass templates (`breakGlass: true` in their file) this rule lets be granted at once',
          ),
        requesterGroups: z
          .array(slackGroupId)
          .min(1, 'break-glass must be limited to named requester groups')
          .describe('only members of these Slack user groups may use break-glass under this rule'),
      })
      .strict()
      .optional()
      .describe(
        'explicit break-glass allowance: granted at once to these groups, security paged, reviewed afterwards by the approvers; everyone else goes through the approvers',
      ),
    onCallAutoApprove: z
      .object({
        schedules: z
          .array(onCallScheduleSchema)
          .min(1)
          .max(10)
          .describe('the requester must be on call now on one of these schedules'),
        templates: z
          .array(z.string().min(1))
          .min(1, 'on-call auto-approval must be limited to named templates')
          .describe('only these templates (never break-glass ones)'),
        accounts: z
          .array(z.string().min(1))
          .min(1, 'on-call auto-approval must be limited to named accounts')
          .describe('only on these accounts: ids, or names/aliases given in `aws.accounts`'),
      })
      .strict()
      .optional()
      .describe(
        'grant at once, security paged, when the requester is on call now on one of these schedules, for these templates on these accounts only; when the schedule cannot be read the request goes to the approvers',
      ),
    channel: slackChannelId
      .optional()
      .describe('where the approval message goes; default slack.channels.approvals'),
    reminderAfter: durationSchema
      .default(parseDuration('30m'))
      .describe('remind the approvers when still pending after this'),
    escalateAfter: durationSchema
      .default(parseDuration('2h'))
      .describe(
        'escalate (to `escalationChannel`) when still pending after this; not earlier than `reminderAfter`',
      ),
    escalationChannel: slackChannelId
      .optional()
      .describe('where escalations go; default `slack.channels.security`'),
    ttl: durationSchema.default(parseDuration('24h')).describe('a pending request expires after this'),
    extensions: withFieldDefaults(
      z
        .object({
          autoApprove: z.boolean().default(false).describe('extensions are granted without a new approval'),
        })
        .strict(),
    ).describe('how extensions of a grant under this rule are decided'),
  })
  .strict()
  .superRefine((rule, ctx) => {
    const { users, groups, onCall } = rule.approvers;
    if (!rule.autoApprove && users.length === 0 && groups.length === 0 && !onCall?.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['approvers'],
        message: 'needs users, groups or onCall unless autoApprove is true',
      });
    }
    if (rule.escalateAfter < rule.reminderAfter) {
      ctx.addIssue({
        code: 'custom',
        path: ['escalateAfter'],
        message: 'must not be earlier than reminderAfter',
      });
    }
    const covered = rule.match.templates?.map((t) => t.toLowerCase());
    rule.breakGlass?.templates.forEach((t, j) => {
      if (covered && !covered.includes(t.toLowerCase())) {
        ctx.addIssue({
          code: 'custom',
          path: ['breakGlass', 'templates', j],
          message: `"${t}" is not in this rule's match.templates, so the allowance could never apply`,
        });
      }
    });
    rule.onCallAutoApprove?.templates.forEach((t, j) => {
      if (covered && !covered.includes(t.toLowerCase())) {
        ctx.addIssue({
          code: 'custom',
          path: ['onCallAutoApprove', 'templates', j],
          message: `"${t}" is not in this rule's match.templates, so the on-call auto-approval could never apply`,
        });
      }
    });
  });

export const approvalSchema = z
  .object({
    rules: z
      .array(approvalRuleSchema)
      .min(1, 'needs at least one rule')
      .describe(
        'approval rules, first match wins; a request no rule matches is refused; rule names are unique',
      ),
  })
  .strict()
  .superRefine((approval, ctx) => {
    const seen = new Set<string>();
    approval.rules.forEach((rule, i) => {
      if (seen.has(rule.name))
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'name'],
          message: `duplicate rule name "${rule.name}"`,
        });
      seen.add(rule.name);
    });
  })
  .describe('who approves what');

/**
 * Rules match accounts by id, so a name or alias in `match.accounts` must name exactly one of the
 * accounts in `aws.accounts`, never an Organizations name (it may change or repeat). Checked on
 * the whole config, since it spans the two sections.
 */
export function checkAccountReferences(
  approval: z.output<typeof approvalSchema>,
  accounts: ReadonlyArray<z.output<typeof accountSchema>>,
  ctx: z.RefinementCtx,
): void {
  approval.rules.forEach((rule, i) => {
    const check = (refs: readonly string[] | undefined, at: readonly string[]) =>
      refs?.forEach((ref, j) => {
        if (!resolveAccountRef(ref, accounts)) {
          ctx.addIssue({
            code: 'custom',
            path: ['approval', 'rules', i, ...at, j],
            message: `"${ref}" is neither a 12-digit account id nor the name or alias of exactly one account in aws.accounts (rules match accounts by id; Organizations names are never used)`,
          });
        }
      });
    check(rule.match.accounts, ['match', 'accounts']);
    check(rule.onCallAutoApprove?.accounts, ['onCallAutoApprove', 'accounts']);
  });
}
