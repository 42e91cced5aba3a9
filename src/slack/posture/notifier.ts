/** {@link PostureNotifier} over Slack: owner DMs and security-channel posts (`messages.ts`). */
import type { WebClient } from '@slack/web-api';
import type { MessageRef } from '../../domain/hygiene/ports.js';
import type { PostureDigest, PostureNotifier } from '../../domain/posture/ports.js';
import type { PostureFinding } from '../../domain/posture/types.js';
import type { AccountNames, SlackMessage } from '../hygiene/messages.js';
import { ownerFindingsMessage, postureDigestMessage, securityFindingsMessage } from './messages.js';

export class SlackPostureNotifier implements PostureNotifier {
  constructor(
    private readonly slack: WebClient,
    private readonly options: { securityChannel: string; accountNames: AccountNames },
  ) {}

  private async post(channel: string, message: SlackMessage): Promise<MessageRef> {
    const res = await this.slack.chat.postMessage({ channel, ...message });
    return { channel: res.channel, ts: res.ts };
  }

  ownerFindings(owner: string, messageId: string, findings: PostureFinding[]): Promise<MessageRef> {
    return this.post(owner, ownerFindingsMessage(messageId, findings, this.options.accountNames));
  }

  securityFindings(accountId: string, messageId: string, findings: PostureFinding[]): Promise<MessageRef> {
    return this.post(
      this.options.securityChannel,
      securityFindingsMessage(accountId, messageId, findings, this.options.accountNames),
    );
  }

  async digest(digest: PostureDigest): Promise<void> {
    await this.post(this.options.securityChannel, postureDigestMessage(digest));
  }
}
