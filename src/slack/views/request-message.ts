/**
 * The approver message: who asks for what, where, how long and why, which rule applies, N of M
 * approvals, and Approve / Deny while the request is pending. Redrawn in place after every
 * change. The reason is user text and is only ever shown as plain_text.
 */
import type { KnownBlock } from '@slack/types';
import { describeState, holdsRole, type AccessRequest } from '../../domain/access-request.js';
import type { ApprovalRule } from '../../domain/approval-policy.js';
import { scheduleLabel } from '../../domain/on-call.js';
import { formatDuration } from '../../domain/duration.js';
import type { TemplateInfo } from '../../domain/ports.js';
import { escapeMrkdwn, mention, mrkdwn, plainText, slackDate, SlackLimit } from '../mrkdwn.js';
import { effectiveAccessMrkdwn } from './effective-access.js';
import { templateMrkdwn } from './template-summary.js';

export const ActionId = {
  approve: 'request_approve',
  deny: 'request_deny',
  cancel: 'home_cancel',
  revoke: 'home_revoke',
  extend: 'home_extend',
  /** Extend on the expiry-warning DM; opens the same form as App Home's. */
  extendGrant: 'grant_extend',
  extensionApprove: 'extension_approve',
  extensionDeny: 'extension_deny',
  /** credentials mode: a fresh session on the delivery DM. */
  refreshDelivery: 'delivery_refresh',
  /** Mark reviewed on the break-glass review message (and App Home). */
  reviewBreakGlass: 'breakglass_review',
} as const;

export const STATE_ICON: Record<AccessRequest['state'], string> = {
  pending: ':hourglass_flowing_sand:',
  approved: ':white_check_mark:',
  active: ':large_green_circle:',
  revoked: ':no_entry_sign:',
  denied: ':x:',
  cancelled: ':heavy_minus_sign:',
  'expired-unapproved': ':alarm_clock:',
  failed: ':warning:',
  'revoke-failed': ':rotating_light:',
};

/** A section field: mrkdwn under Slack's shorter limit for fields. */
export function field(text: string): ReturnType<typeof mrkdwn> {
  return mrkdwn(text, SlackLimit.sectionField);
}

export function accountLine(request: AccessRequest): string {
  const path = request.ouPath.map((ou) => ou.name || ou.id).join(' / ');
  return `${escapeMrkdwn(request.accountName)} (\`${request.accountId}\`)${path ? ` · OU ${escapeMrkdwn(path)}` : ''}`;
}

export function approversText(rule: ApprovalRule | undefined): string {
  if (!rule) return 'rule removed';
  const people = [
    ...rule.approvers.groups.map((g) => `<!subteam^${g}>`),
    ...rule.approvers.users.map((u) => mention(u)),
    ...(rule.approvers.onCall ?? []).map((s) => `on call now: ${escapeMrkdwn(scheduleLabel(s))}`),
  ];
  return people.join(', ') || 'nobody (auto-approval)';
}

/**
 * One-line summary for notifications and fallback `text` (which Slack renders as mrkdwn): the
 * account name comes from Organizations, where a member account's admins may rename it, so
 * names are escaped here.
 */
export function requestHeadline(request: AccessRequest): string {
  return `${request.breakGlass ? 'Break-glass access' : 'AWS access request'} ${request.id}: ${escapeMrkdwn(request.templateName)} on ${escapeMrkdwn(request.accountName)} for ${formatDuration(request.durationSeconds)}`;
}

export interface RequestMessageOptions {
  rule: ApprovalRule | undefined;
  template: TemplateInfo | undefined;
  note?: string;
  /**
   * Break-glass review: the grant happened already, so no Approve / Deny; instead Mark reviewed
   * until an approver has reviewed it, then who reviewed it and when.
   */
  review?: boolean;
}

export function requestMessageBlocks(request: AccessRequest, options: RequestMessageOptions): KnownBlock[] {
  const { rule, template } = options;
  const approvals = request.approvals.map((a) => mention(a.approverId)).join(', ');
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: plainText(
        `${request.breakGlass ? 'Break-glass access' : 'AWS access request'} ${request.id}`,
        SlackLimit.headerText,
      ),
    },
    {
      type: 'section',
      text: mrkdwn(
        `${mention(request.requesterId)} asks for *${escapeMrkdwn(request.templateName)}* on ${accountLine(request)}`,
      ),
      fields: [
        field(`*Duration*\n${formatDuration(request.durationSeconds)}`),
        field(`*Rule*\n${escapeMrkdwn(request.ruleName)}`),
        field(
          `*Approvals*\n${request.approvals.length} of ${request.approvalsRequired}${approvals ? ` (${approvals})` : ''}`,
        ),
        field(`*Approvers*\n${approversText(rule)}`),
      ],
    },
    { type: 'section', text: mrkdwn('*Reason*') },
    { type: 'section', block_id: 'reason', text: plainText(request.reason || '(none given)') },
  ];
  if (template) blocks.push({ type: 'context', elements: [mrkdwn(templateMrkdwn(template))] });
  const effective = effectiveAccessMrkdwn(request.effectiveAccess);
  if (effective)
    blocks.push({ type: 'context', block_id: 'effective-access', elements: [mrkdwn(effective)] });
  if (options.review && request.reviewedBy) {
    const at = request.reviewedAt ? ` at ${slackDate(request.reviewedAt)}` : '';
    blocks.push({
      type: 'section',
      text: mrkdwn(
        `:rotating_light: *Break-glass*: granted at once without approval. :white_check_mark: Reviewed by ${mention(request.reviewedBy)}${at}.`,
      ),
    });
  } else if (options.review) {
    blocks.push({
      type: 'section',
      text: mrkdwn(
        ':rotating_light: *Break-glass*: granted at once without approval. Approvers, please review this use and follow up with the requester.',
      ),
    });
  }
  const status = [`${STATE_ICON[request.state]} *${describeState(request.state)}*`];
  if (request.decidedBy && request.decidedBy !== 'system' && request.state !== 'pending') {
    status.push(`decided by ${mention(request.decidedBy)}`);
  }
  if (request.expiresAt && holdsRole(request.state)) {
    status.push(`until ${slackDate(request.expiresAt)}`);
  }
  if (request.extensions > 0) status.push(`extended ${request.extensions}×`);
  if (options.note) status.push(options.note);
  blocks.push({ type: 'context', elements: [mrkdwn(status.join(' · '))] });
  if (request.state === 'denied' && request.denyReason) {
    blocks.push({ type: 'section', text: mrkdwn('*Why denied*') });
    blocks.push({ type: 'section', text: plainText(request.denyReason) });
  }
  if (request.state === 'pending' && !options.review) blocks.push(decisionActions(request));
  if (options.review && !request.reviewedBy) blocks.push(reviewActions(request));
  return blocks;
}

/** Approve / Deny on a pending request (the approver message and App Home). */
export function decisionActions(request: AccessRequest, blockId = 'decision'): KnownBlock {
  return {
    type: 'actions',
    block_id: blockId,
    elements: [
      {
        type: 'button',
        action_id: ActionId.approve,
        text: plainText('Approve'),
        style: 'primary',
        value: request.id,
      },
      {
        type: 'button',
        action_id: ActionId.deny,
        text: plainText('Deny'),
        style: 'danger',
        value: request.id,
      },
    ],
  };
}

export function reviewActions(request: AccessRequest, blockId = 'review'): KnownBlock {
  return {
    type: 'actions',
    block_id: blockId,
    elements: [
      {
        type: 'button',
        action_id: ActionId.reviewBreakGlass,
        text: plainText('Mark reviewed'),
        style: 'primary',
        value: request.id,
      },
    ],
  };
}
