/**
 * RequestNotifier over the Slack Web API: the approver message (posted, then redrawn in place),
 * requester DMs, deliveries (DM only), reminders, escalations and security alerts.
 */
import type { KnownBlock } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import type { AccessRequest } from '../domain/access-request.js';
import type { ApprovalRule } from '../domain/approval-policy.js';
import { formatDuration } from '../domain/duration.js';
import type { Delivery, TemplateCatalog } from '../domain/ports.js';
import type { RequestNotifier } from '../domain/request-ports.js';
import { escapeMrkdwn, mention, mrkdwn, plainText } from './mrkdwn.js';
import { deliveryBlocks, deliveryText } from './views/delivery-message.js';
import { approversText, requestHeadline, requestMessageBlocks } from './views/request-message.js';

export interface NotifierChannels {
  approvals: string;
  security: string;
}

const NO_UNFURL = { unfurl_links: false, unfurl_media: false } as const;

export class SlackNotifier implements RequestNotifier {
  constructor(
    private readonly client: WebClient,
    private readonly channels: NotifierChannels,
    private readonly templates: TemplateCatalog,
    private readonly ruleByName: (name: string) => ApprovalRule | undefined,
  ) {}

  private blocks(request: AccessRequest, note?: string, review = false): KnownBlock[] {
    return requestMessageBlocks(request, {
      rule: this.ruleByName(request.ruleName),
      template: this.templates.get(request.templateName),
      note,
      review,
    });
  }

  private async post(channel: string, text: string, blocks?: KnownBlock[], threadTs?: string) {
    const res = await this.client.chat.postMessage({
      channel,
      text,
      ...(blocks ? { blocks } : {}),
      ...(threadTs ? { thread_ts: threadTs } : {}),
      ...NO_UNFURL,
    });
    return { channel: String(res.channel ?? channel), ts: String(res.ts) };
  }

  async approvalRequested(request: AccessRequest, rule: ApprovalRule) {
    return this.post(rule.channel ?? this.channels.approvals, requestHeadline(request), this.blocks(request));
  }

  async requestChanged(request: AccessRequest, note?: string): Promise<void> {
    if (!request.message) return;
    await this.client.chat.update({
      channel: request.message.channel,
      ts: request.message.ts,
      text: `${requestHeadline(request)} – ${request.state}`,
      blocks: this.blocks(request, note, request.breakGlass),
    });
  }

  async toRequester(request: AccessRequest, text: string): Promise<void> {
    const blocks: KnownBlock[] = [{ type: 'section', text: mrkdwn(text) }];
    if (request.state === 'denied' && request.denyReason) {
      blocks.push({ type: 'context', elements: [plainText(`Reason: ${request.denyReason}`)] });
    }
    await this.post(request.requesterId, text, blocks);
  }

  async delivered(request: AccessRequest, delivery: Delivery): Promise<void> {
    await this.post(request.requesterId, deliveryText(request, delivery), deliveryBlocks(request, delivery));
  }

  async remind(request: AccessRequest, rule: ApprovalRule): Promise<void> {
    const text = `:bell: Reminder: ${approversText(rule)}, request ${request.id} from ${mention(request.requesterId)} is still waiting (${request.approvals.length} of ${request.approvalsRequired} approvals).`;
    if (request.message) await this.post(request.message.channel, text, undefined, request.message.ts);
    else await this.post(rule.channel ?? this.channels.approvals, text);
  }

  async escalate(request: AccessRequest, rule: ApprovalRule): Promise<void> {
    const channel = rule.escalationChannel ?? this.channels.security;
    const text = `:arrow_double_up: Escalation: ${escapeMrkdwn(requestHeadline(request))} from ${mention(request.requesterId)} has had no decision since ${new Date(request.createdAt).toISOString()}. Approvers: ${approversText(rule)}.`;
    await this.post(channel, text, [
      { type: 'section', text: mrkdwn(text) },
      { type: 'section', text: plainText(`Reason: ${request.reason || '(none)'}`) },
    ]);
  }

  async breakGlass(request: AccessRequest, rule: ApprovalRule) {
    const alert = `:rotating_light: Break-glass: ${mention(request.requesterId)} took *${escapeMrkdwn(request.templateName)}* on ${escapeMrkdwn(request.accountName)} (\`${request.accountId}\`) for ${formatDuration(request.durationSeconds)} without approval (request ${request.id}).`;
    await this.post(this.channels.security, `Break-glass access ${request.id} by ${request.requesterId}`, [
      { type: 'section', text: mrkdwn(alert) },
      { type: 'section', text: plainText(`Why: ${request.reason || '(no reason given)'}`) },
    ]);
    return this.post(
      rule.channel ?? this.channels.approvals,
      `Review needed: ${requestHeadline(request)}`,
      this.blocks(request, undefined, true),
    );
  }

  async alertSecurity(text: string, request?: AccessRequest): Promise<void> {
    await this.post(this.channels.security, escapeMrkdwn(text), [
      { type: 'section', text: plainText(`⚠ ${text}`) },
      ...(request
        ? [
            {
              type: 'context',
              elements: [
                mrkdwn(`${escapeMrkdwn(requestHeadline(request))} · ${mention(request.requesterId)}`),
              ],
            } as KnownBlock,
          ]
        : []),
    ]);
  }
}
