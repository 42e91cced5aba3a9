/** App Home: my active grants (Revoke, Extend), my pending requests (Cancel), and requests waiting for me. */
import type { HomeView, KnownBlock } from '@slack/types';
import type { AccessRequest } from '../../domain/access-request.js';
import { formatDuration } from '../../domain/duration.js';
import { escapeMrkdwn, mention, mrkdwn, plainText, slackDate } from '../mrkdwn.js';
import { cappedList } from './capped-list.js';
import { accountLine, ActionId, decisionActions, reviewActions } from './request-message.js';

/**
 * Blocks per list, within Slack's 100 per view: 3 headers, 3 dividers and the footer take 7;
 * a grant takes 2 blocks, a pending request 1, a request waiting for you 3.
 */
const BUDGET = { active: 21, pending: 11, waiting: 61 } as const;
const SEE_ALL = '`/aws-access list` shows all of yours.';

function line(request: AccessRequest): string {
  return `\`${request.id}\` *${escapeMrkdwn(request.templateName)}* on ${accountLine(request)}`;
}

function section(
  title: string,
  empty: string,
  items: KnownBlock[][],
  budget: number,
  more: (rest: number) => string,
): KnownBlock[] {
  return [
    { type: 'header', text: plainText(title) },
    ...(items.length
      ? cappedList(items, budget, more)
      : [{ type: 'context', elements: [mrkdwn(empty)] } as KnownBlock]),
    { type: 'divider' },
  ];
}

export function appHomeView(lists: {
  active: AccessRequest[];
  pending: AccessRequest[];
  waiting: AccessRequest[];
  /** Break-glass grants waiting for this approver's review (shown under "waiting for your approval"). */
  reviews?: AccessRequest[];
}): HomeView {
  const active = lists.active.map((r): KnownBlock[] => [
    {
      type: 'section',
      text: mrkdwn(
        `${line(r)}\n${r.state === 'active' && r.expiresAt ? `until ${slackDate(r.expiresAt)}` : 'revocation failed, retrying'}`,
      ),
    },
    {
      type: 'actions',
      block_id: `active_${r.id}`,
      elements: [
        {
          type: 'button',
          action_id: ActionId.revoke,
          text: plainText('Revoke'),
          style: 'danger',
          value: r.id,
        },
        { type: 'button', action_id: ActionId.extend, text: plainText('Extend'), value: r.id },
      ],
    },
  ]);
  const pending = lists.pending.map((r): KnownBlock[] => [
    {
      type: 'section',
      text: mrkdwn(
        `${line(r)} for ${formatDuration(r.durationSeconds)} · ${r.approvals.length} of ${r.approvalsRequired} approvals`,
      ),
      ...(r.state === 'pending'
        ? {
            accessory: { type: 'button', action_id: ActionId.cancel, text: plainText('Cancel'), value: r.id },
          }
        : {}),
    },
  ]);
  const waiting = lists.waiting.map((r): KnownBlock[] => [
    {
      type: 'section',
      text: mrkdwn(`${line(r)} for ${formatDuration(r.durationSeconds)}, asked by ${mention(r.requesterId)}`),
    },
    { type: 'section', text: plainText(r.reason || '(no reason given)') },
    decisionActions(r, `waiting_${r.id}`),
  ]);
  const reviews = (lists.reviews ?? []).map((r): KnownBlock[] => [
    {
      type: 'section',
      text: mrkdwn(
        `:rotating_light: Break-glass review: ${line(r)} for ${formatDuration(r.durationSeconds)}, taken by ${mention(r.requesterId)}`,
      ),
    },
    { type: 'section', text: plainText(r.reason || '(no reason given)') },
    reviewActions(r, `review_${r.id}`),
  ]);
  return {
    type: 'home',
    blocks: [
      ...section(
        'Your active grants',
        'No active grants.',
        active,
        BUDGET.active,
        (n) => `…and ${n} more. ${SEE_ALL}`,
      ),
      ...section(
        'Your pending requests',
        'Nothing pending.',
        pending,
        BUDGET.pending,
        (n) => `…and ${n} more. ${SEE_ALL}`,
      ),
      ...section(
        'Waiting for your approval',
        'Nothing waiting for you.',
        [...waiting, ...reviews],
        BUDGET.waiting,
        (n) => `…and ${n} more waiting for you; they are also in the approval channels.`,
      ),
      { type: 'context', elements: [mrkdwn('Ask for access with `/aws-access`.')] },
    ],
  };
}
