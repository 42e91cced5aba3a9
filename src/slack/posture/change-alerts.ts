/**
 * {@link ChangeAlertNotifier} over Slack: one post per group of IAM changes, to the alerts
 * channel (posture.alerts.channel, else the security channel), a line per change under its
 * account, changes to the bot's own roles first.
 */
import type { WebClient } from '@slack/web-api';
import type { KnownBlock } from '@slack/types';
import type { ChangeAlert } from '../../domain/iam-changes/describe-change.js';
import type { ChangeAlertNotifier } from '../../domain/iam-changes/ports.js';
import { escapeText, type AccountNames, type SlackMessage } from '../hygiene/messages.js';
import { clip, escapeMrkdwn, mrkdwn, SlackLimit } from '../mrkdwn.js';

function accountLabel(accountId: string, names: AccountNames): string {
  const name = names.get(accountId);
  return name ? `${escapeText(name)} (${accountId})` : accountId;
}

export function changeAlertsMessage(alerts: ChangeAlert[], names: AccountNames): SlackMessage {
  const accounts = [...new Set(alerts.map((a) => a.accountId))].sort();
  const outside = alerts.filter((a) => a.accessPath).length;
  const text =
    alerts.length === 1
      ? `IAM change in ${accountLabel(alerts[0]!.accountId, names)}: ${escapeMrkdwn(alerts[0]!.text)}`
      : `${alerts.length} IAM changes in ${accounts.length} ${accounts.length === 1 ? 'account' : 'accounts'}${outside ? ` (${outside} to the bot's own roles)` : ''}`;
  const blocks: KnownBlock[] = [{ type: 'section', text: mrkdwn(`*${clip(text, 2900)}*`) }];
  for (const accountId of accounts) {
    const lines = alerts
      .filter((a) => a.accountId === accountId)
      .sort((a, b) => Number(b.accessPath) - Number(a.accessPath) || a.at.localeCompare(b.at))
      .map((a) => `• ${a.at.slice(11, 19)} UTC — ${escapeMrkdwn(a.text)}`);
    blocks.push({
      type: 'section',
      text: mrkdwn(`*${accountLabel(accountId, names)}*\n${lines.join('\n')}`),
    });
  }
  return { text: clip(text, SlackLimit.messageText), blocks: blocks.slice(0, SlackLimit.messageBlocks) };
}

export class SlackChangeAlertNotifier implements ChangeAlertNotifier {
  constructor(
    private readonly slack: WebClient,
    private readonly options: { channel: string; accountNames: AccountNames },
  ) {}

  async post(alerts: ChangeAlert[]): Promise<void> {
    await this.slack.chat.postMessage({
      channel: this.options.channel,
      ...changeAlertsMessage(alerts, this.options.accountNames),
    });
  }
}
