/**
 * Block Kit for the posture review: new findings to their owner (DM) or the security channel,
 * each kind with what to do about it and an "Accept risk…" button, the accept-risk modal, and
 * the weekly posture digest. Pure functions; every name that came from IAM is escaped.
 */
import type { KnownBlock, ModalView } from '@slack/types';
import { ACCEPT_RISK_DAYS } from '../../domain/posture/accept-risk.js';
import { POSTURE_KINDS, POSTURE_LABELS, POSTURE_REMEDIES } from '../../domain/posture/kinds.js';
import type { PostureDigest } from '../../domain/posture/ports.js';
import type { PostureFinding } from '../../domain/posture/types.js';
import { escapeText, type AccountNames, type SlackMessage } from '../hygiene/messages.js';
import { clip, escapeMrkdwn, mrkdwn, plainText, SlackLimit } from '../mrkdwn.js';

export const ACCEPT_RISK_ACTION_ID = 'posture_accept_risk';
export const ACCEPT_RISK_MODAL_ID = 'posture-accept-risk';

/** Kinds shown per message, findings per kind: a first sweep can find hundreds. */
const MAX_PER_KIND = 15;

function accountLabel(accountId: string, names: AccountNames): string {
  const name = names.get(accountId);
  return name ? `${escapeText(name)} (${accountId})` : accountId;
}

function findingBlocks(findings: PostureFinding[]): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  for (const kind of POSTURE_KINDS) {
    const list = findings.filter((f) => f.kind === kind);
    if (list.length === 0) continue;
    const lines = list.slice(0, MAX_PER_KIND).map((f) => `• ${escapeMrkdwn(f.detail)}`);
    if (list.length > MAX_PER_KIND) lines.push(`• …and ${list.length - MAX_PER_KIND} more`);
    blocks.push({
      type: 'section',
      text: mrkdwn(`*${POSTURE_LABELS[kind]}* (${list.length})\n${lines.join('\n')}`),
    });
    blocks.push({ type: 'context', elements: [mrkdwn(`What to do: ${POSTURE_REMEDIES[kind]}`)] });
  }
  // Slack allows 50 blocks; 9 kinds × 2 + header + actions stays under it.
  return blocks;
}

function acceptButton(messageId: string): KnownBlock {
  return {
    type: 'actions',
    elements: [
      {
        type: 'button',
        action_id: ACCEPT_RISK_ACTION_ID,
        text: plainText('Accept risk…', SlackLimit.buttonText),
        value: messageId,
      },
    ],
  };
}

export function ownerFindingsMessage(
  messageId: string,
  findings: PostureFinding[],
  names: AccountNames,
): SlackMessage {
  const accounts = [...new Set(findings.map((f) => accountLabel(f.accountId, names)))].join(', ');
  const text = `IAM posture: ${findings.length} new ${findings.length === 1 ? 'finding' : 'findings'} you own in ${accounts}`;
  return {
    text: clip(text, SlackLimit.messageText),
    blocks: [
      { type: 'section', text: mrkdwn(`*${text}*`) },
      ...findingBlocks(findings),
      acceptButton(messageId),
    ],
  };
}

export function securityFindingsMessage(
  accountId: string,
  messageId: string,
  findings: PostureFinding[],
  names: AccountNames,
): SlackMessage {
  const text = `IAM posture: ${findings.length} new ${findings.length === 1 ? 'finding' : 'findings'} in ${accountLabel(accountId, names)} with no owner`;
  return {
    text: clip(text, SlackLimit.messageText),
    blocks: [
      { type: 'section', text: mrkdwn(`*${text}*`) },
      ...findingBlocks(findings),
      {
        type: 'context',
        elements: [
          mrkdwn('Tag users and roles with `slack-user` or `email` to send their findings to their owner.'),
        ],
      },
      acceptButton(messageId),
    ],
  };
}

export function acceptRiskModal(messageId: string, findings: number): ModalView {
  return {
    type: 'modal',
    callback_id: ACCEPT_RISK_MODAL_ID,
    private_metadata: messageId,
    title: plainText('Accept risk', 24),
    submit: plainText('Accept'),
    close: plainText('Back'),
    blocks: [
      {
        type: 'section',
        text: mrkdwn(
          `Leave the ${findings} ${findings === 1 ? 'finding' : 'findings'} of this message out of the posture review for a while. The reason is audited.`,
        ),
      },
      {
        type: 'input',
        block_id: 'reason',
        label: plainText('Why is this risk acceptable?'),
        element: { type: 'plain_text_input', action_id: 'reason', multiline: true, max_length: 500 },
      },
      {
        type: 'input',
        block_id: 'days',
        label: plainText('For how long'),
        element: {
          type: 'static_select',
          action_id: 'days',
          initial_option: { text: plainText('30 days'), value: '30' },
          options: ACCEPT_RISK_DAYS.map((d) => ({ text: plainText(`${d} days`), value: String(d) })),
        },
      },
    ],
  };
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

export function postureDigestMessage(digest: PostureDigest): SlackMessage {
  const text = `IAM posture digest ${digest.week}: ${digest.total} findings${
    digest.change
      ? ` (${signed(POSTURE_KINDS.reduce((n, k) => n + digest.change![k], 0))} since ${digest.previousWeek})`
      : ''
  }, ${digest.accepted} accepted risks in force`;
  const lines = POSTURE_KINDS.filter((k) => digest.counts[k] > 0 || (digest.change?.[k] ?? 0) !== 0).map(
    (k) =>
      `• ${POSTURE_LABELS[k]}: *${digest.counts[k]}*${digest.change ? ` (${signed(digest.change[k])})` : ''}`,
  );
  return {
    text,
    blocks: [
      { type: 'section', text: mrkdwn(`*${text}*`) },
      ...(lines.length ? [{ type: 'section' as const, text: mrkdwn(lines.join('\n')) }] : []),
    ],
  };
}
