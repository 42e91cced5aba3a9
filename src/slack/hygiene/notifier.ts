/**
 * {@link HygieneNotifier} over Slack: each hygiene message as Block Kit (`messages.ts`), to the
 * owner's DM or the security channel.
 */
import type { WebClient } from '@slack/web-api';
import type { Digest } from '../../domain/hygiene/digest.js';
import type { HygieneNotifier, MessageRef } from '../../domain/hygiene/ports.js';
import { SNOOZE_DAYS } from '../../domain/hygiene/reminders.js';
import type { Finding } from '../../domain/hygiene/types.js';
import {
  digestMessage,
  enforcementWarningMessage,
  escalationMessage,
  keysDeactivatedMessage,
  rotationReminderMessage,
  unownedFindingsMessage,
  type AccountNames,
  type SlackMessage,
} from './messages.js';

export interface SlackHygieneNotifierOptions {
  securityChannel: string;
  accountNames: AccountNames;
  rotationDays: number;
  unusedKeyDays: number;
  escalateAfterDays: number;
}

export class SlackHygieneNotifier implements HygieneNotifier {
  constructor(
    private readonly slack: WebClient,
    private readonly options: SlackHygieneNotifierOptions,
  ) {}

  private async post(channel: string | undefined, message: SlackMessage): Promise<MessageRef> {
    const res = await this.slack.chat.postMessage({
      channel: channel || this.options.securityChannel,
      ...message,
    });
    return { channel: res.channel, ts: res.ts };
  }

  async unownedFindings(accountId: string, findings: Finding[]): Promise<void> {
    await this.post(undefined, unownedFindingsMessage(accountId, findings, this.options.accountNames));
  }

  async enforcementWarning(
    owner: string | undefined,
    findings: Finding[],
    deactivateAfter: Date,
  ): Promise<void> {
    await this.post(
      owner,
      enforcementWarningMessage({
        findings,
        accountNames: this.options.accountNames,
        deactivateAfter,
        unusedKeyDays: this.options.unusedKeyDays,
        toSecurity: !owner,
      }),
    );
  }

  async keysDeactivated(owner: string | undefined, findings: Finding[]): Promise<void> {
    await this.post(owner, keysDeactivatedMessage(findings, this.options.accountNames));
  }

  rotationReminder(owner: string, reminderId: string, findings: Finding[]): Promise<MessageRef> {
    return this.post(
      owner,
      rotationReminderMessage({
        reminderId,
        findings,
        accountNames: this.options.accountNames,
        rotationDays: this.options.rotationDays,
        snoozeDays: SNOOZE_DAYS,
      }),
    );
  }

  async escalation(findings: Finding[]): Promise<void> {
    await this.post(
      undefined,
      escalationMessage(findings, this.options.accountNames, this.options.escalateAfterDays),
    );
  }

  async digest(digest: Digest): Promise<void> {
    await this.post(undefined, digestMessage(digest, this.options.accountNames));
  }
}
