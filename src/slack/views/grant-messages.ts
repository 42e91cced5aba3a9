/**
 * Messages about a running grant: the expiry warning DM (with Extend when an extension is still
 * possible) and the approvers' message for an extension that needs approval.
 */
import type { KnownBlock } from '@slack/types';
import type { AccessRequest, PendingExtension } from '../../domain/access-request.js';
import type { ApprovalRule } from '../../domain/approval-policy.js';
import { formatDuration } from '../../domain/duration.js';
import type { ExtensionAllowance } from '../../domain/request-ports.js';
import { escapeMrkdwn, mention, mrkdwn, plainText, slackDate, SlackLimit } from '../mrkdwn.js';
import { accountLine, ActionId, approversText, field } from './request-message.js';

export function expiryWarningText(request: AccessRequest): string {
  return `Your access for request ${request.id} (${escapeMrkdwn(request.templateName)} on ${escapeMrkdwn(request.accountName)}) ends at ${new Date(
    request.expiresAt ?? 0,
  ).toISOString()}.`;
}

export function expiryWarningBlocks(request: AccessRequest, allowance: ExtensionAllowance): KnownBlock[] {
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: mrkdwn(
        `:hourglass: Your access *${escapeMrkdwn(request.templateName)}* on ${accountLine(request)} ends ${slackDate(
          request.expiresAt ?? 0,
        )} (request \`${request.id}\`).`,
      ),
    },
  ];
  if (allowance.maxSeconds > 0) {
    blocks.push({
      type: 'actions',
      block_id: 'expiry',
      elements: [
        {
          type: 'button',
          action_id: ActionId.extendGrant,
          text: plainText('Extend'),
          style: 'primary',
          value: request.id,
        },
      ],
    });
    blocks.push({
      type: 'context',
      elements: [
        mrkdwn(
          `You can add up to ${formatDuration(allowance.maxSeconds)}${
            allowance.needsApproval ? '; the approvers of your rule decide' : ''
          }.`,
        ),
      ],
    });
  } else {
    blocks.push({
      type: 'context',
      elements: [plainText(`It cannot be extended: ${allowance.reason ?? 'no extension is allowed'}.`)],
    });
  }
  return blocks;
}

/**
 * The extension buttons name the extension too (`<request id>@<requestedAt>`): a click on the
 * message of an extension already decided must not decide the next one.
 */
export function extensionButtonValue(request: AccessRequest, extension: PendingExtension): string {
  return `${request.id}@${extension.requestedAt}`;
}

export function parseExtensionButtonValue(value: string): { requestId: string; requestedAt?: number } {
  const [requestId = '', at] = value.split('@');
  const requestedAt = at === undefined ? undefined : Number(at);
  // A malformed stamp matches no extension (NaN never equals a stored time).
  return { requestId, ...(at === undefined ? {} : { requestedAt }) };
}

export function extensionHeadline(request: AccessRequest, extension: PendingExtension): string {
  return `Extension of ${request.id} by ${formatDuration(extension.seconds)}: ${escapeMrkdwn(request.templateName)} on ${escapeMrkdwn(request.accountName)}`;
}

/** The approvers' message for an extension; buttons while it waits, a note once decided. */
export function extensionMessageBlocks(
  request: AccessRequest,
  extension: PendingExtension,
  rule: ApprovalRule | undefined,
  options: { waiting: boolean; note?: string },
): KnownBlock[] {
  const approvals = extension.approvals.map(mention).join(', ');
  const blocks: KnownBlock[] = [
    { type: 'header', text: plainText(`Extension of AWS access ${request.id}`, SlackLimit.headerText) },
    {
      type: 'section',
      text: mrkdwn(
        `${mention(request.requesterId)} asks to keep *${escapeMrkdwn(request.templateName)}* on ${accountLine(
          request,
        )} for ${formatDuration(extension.seconds)} more (it now ends ${slackDate(request.expiresAt ?? 0)}).`,
      ),
      fields: [
        field(`*Rule*\n${escapeMrkdwn(request.ruleName)}`),
        field(`*Extensions so far*\n${request.extensions}`),
        field(
          `*Approvals*\n${extension.approvals.length} of ${request.approvalsRequired}${approvals ? ` (${approvals})` : ''}`,
        ),
        field(`*Approvers*\n${approversText(rule)}`),
      ],
    },
    { type: 'section', text: mrkdwn('*Original reason*') },
    { type: 'section', text: plainText(request.reason || '(none given)') },
  ];
  if (options.note) blocks.push({ type: 'context', elements: [mrkdwn(options.note)] });
  if (options.waiting) {
    blocks.push({
      type: 'actions',
      block_id: 'extension',
      elements: [
        {
          type: 'button',
          action_id: ActionId.extensionApprove,
          text: plainText('Approve extension'),
          style: 'primary',
          value: extensionButtonValue(request, extension),
        },
        {
          type: 'button',
          action_id: ActionId.extensionDeny,
          text: plainText('Deny'),
          style: 'danger',
          value: extensionButtonValue(request, extension),
        },
      ],
    });
  }
  return blocks;
}
