/**
 * RequestNotifier over the Slack Web API: the approver message (posted, then redrawn in place),
 * requester DMs, deliveries (DM only), reminders, escalations and security alerts.
 */
import type { KnownBlock } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import type { AccessRequest, PendingExtension } from '../domain/access-request.js';
import type { GroupNotifier, GroupView } from '../domain/request-group.js';
import type { ApprovalRule } from '../domain/approval-policy.js';
import { formatDuration } from '../domain/duration.js';
import type { Delivery, TemplateCatalog } from '../domain/ports.js';
import type {
  DeferNotification,
  DeferredNotification,
  DeferredNotificationSender,
  ExtensionAllowance,
  RequestNotifier,
} from '../domain/request-ports.js';
import {
  clip,
  escapeMrkdwn,
  escapeMrkdwnKeepingMentions,
  mention,
  mrkdwn,
  plainText,
  SlackLimit,
} from './mrkdwn.js';
import { isRateLimited, retryLaterWhenRateLimited } from './slack-client.js';
import { deliveryBlocks, deliveryText } from './views/delivery-message.js';
import {
  expiryWarningBlocks,
  expiryWarningText,
  extensionHeadline,
  extensionMessageBlocks,
} from './views/grant-messages.js';
import {
  groupDeliveryMessages,
  groupHeadline,
  groupMessageBlocks,
  groupState,
} from './views/group-message.js';
import { approversText, requestHeadline, requestMessageBlocks } from './views/request-message.js';

export interface NotifierChannels {
  approvals: string;
  security: string;
}

const NO_UNFURL = { unfurl_links: false, unfurl_media: false } as const;

export interface SlackNotifierOptions {
  /**
   * Jobs pass a client with `rejectRateLimitedCalls` and this hook: a rate-limited post is
   * queued (BullMQ retries it after Retry-After) instead of blocking the worker. Never used for
   * deliveries, which may hold credentials and must not reach Redis.
   */
  defer?: DeferNotification;
}

export class SlackNotifier implements RequestNotifier, GroupNotifier, DeferredNotificationSender {
  constructor(
    private readonly client: WebClient,
    private readonly channels: NotifierChannels,
    private readonly templates: TemplateCatalog,
    private readonly ruleByName: (name: string) => ApprovalRule | undefined,
    private readonly options: SlackNotifierOptions = {},
  ) {}

  /** Runs a deferrable call; a rate-limited one goes to `defer` when there is one. */
  private async deferrable<T>(call: DeferredNotification, run: () => Promise<T>): Promise<T | undefined> {
    try {
      return await run();
    } catch (error) {
      if (!isRateLimited(error) || !this.options.defer) throw error;
      await this.options.defer(call, error.retryAfter ?? 1);
      return undefined;
    }
  }

  /**
   * Makes a deferred post or update now (the notify queue calls this). Only those two methods:
   * the call comes back from Redis, so nothing else it might name is ever made.
   */
  async resend(call: DeferredNotification): Promise<void> {
    const { method, args } = call;
    if (method !== 'chat.postMessage' && method !== 'chat.update') return;
    await retryLaterWhenRateLimited(() => this.client.apiCall(method, args));
  }

  private blocks(request: AccessRequest, note?: string, review = false): KnownBlock[] {
    return requestMessageBlocks(request, {
      rule: this.ruleByName(request.ruleName),
      template: this.templates.get(request.templateName),
      note,
      review,
    });
  }

  private async post(
    channel: string,
    text: string,
    blocks?: KnownBlock[],
    threadTs?: string,
  ): Promise<{ channel: string; ts: string } | undefined> {
    const args = {
      channel,
      text: clip(text, SlackLimit.messageText),
      ...(blocks ? { blocks } : {}),
      ...(threadTs ? { thread_ts: threadTs } : {}),
      ...NO_UNFURL,
    };
    const res = await this.deferrable({ method: 'chat.postMessage', args }, () =>
      this.client.chat.postMessage(args),
    );
    return res ? { channel: String(res.channel ?? channel), ts: String(res.ts) } : undefined;
  }

  private async update(channel: string, ts: string, text: string, blocks: KnownBlock[]): Promise<void> {
    const args = { channel, ts, text: clip(text, SlackLimit.messageText), blocks };
    await this.deferrable({ method: 'chat.update', args }, () => this.client.chat.update(args));
  }

  async approvalRequested(request: AccessRequest, rule: ApprovalRule) {
    return this.post(rule.channel ?? this.channels.approvals, requestHeadline(request), this.blocks(request));
  }

  async requestChanged(request: AccessRequest, note?: string): Promise<void> {
    if (!request.message) return;
    await this.update(
      request.message.channel,
      request.message.ts,
      `${requestHeadline(request)} – ${request.state}`,
      this.blocks(request, note, request.breakGlass),
    );
  }

  private groupBlocks(view: GroupView, note?: string): KnownBlock[] {
    const first = view.members[0];
    return groupMessageBlocks(view, {
      ruleByName: this.ruleByName,
      template: first ? this.templates.get(first.templateName) : undefined,
      ...(note ? { note } : {}),
    });
  }

  async groupApprovalRequested(view: GroupView, rule: ApprovalRule) {
    return this.post(rule.channel ?? this.channels.approvals, groupHeadline(view), this.groupBlocks(view));
  }

  async groupChanged(view: GroupView, note?: string): Promise<void> {
    const message = view.group.message;
    if (!message) return;
    await this.update(
      message.channel,
      message.ts,
      `${groupHeadline(view)} – ${groupState(view)
        .replace(/:[a-z_]+:\s*/g, '')
        .replace(/\*/g, '')}`,
      this.groupBlocks(view, note),
    );
  }

  async groupDelivered(
    view: GroupView,
    grants: ReadonlyArray<{ request: AccessRequest; delivery: Delivery }>,
  ): Promise<void> {
    // Never deferred, as `delivered`: the blocks may hold sign-in links or credentials.
    for (const { text, blocks } of groupDeliveryMessages(view, grants)) {
      await this.client.chat.postMessage({ channel: view.group.requesterId, text, blocks, ...NO_UNFURL });
    }
  }

  /** `text` is composed by the service: names in it are escaped, its own mentions kept. */
  async toRequester(request: AccessRequest, composed: string): Promise<void> {
    const text = escapeMrkdwnKeepingMentions(composed);
    const blocks: KnownBlock[] = [{ type: 'section', text: mrkdwn(text) }];
    if (request.state === 'denied' && request.denyReason) {
      blocks.push({ type: 'context', elements: [plainText(`Reason: ${request.denyReason}`)] });
    }
    await this.post(request.requesterId, text, blocks);
  }

  async delivered(request: AccessRequest, delivery: Delivery): Promise<void> {
    // Never deferred: the blocks may hold a sign-in link or credentials (never into Redis).
    await this.client.chat.postMessage({
      channel: request.requesterId,
      text: deliveryText(request, delivery),
      blocks: deliveryBlocks(request, delivery),
      ...NO_UNFURL,
    });
  }

  async expiryWarning(request: AccessRequest, allowance: ExtensionAllowance): Promise<void> {
    await this.post(request.requesterId, expiryWarningText(request), expiryWarningBlocks(request, allowance));
  }

  async extensionRequested(request: AccessRequest, rule: ApprovalRule) {
    const extension = request.pendingExtension;
    if (!extension) return undefined;
    return this.post(
      rule.channel ?? this.channels.approvals,
      extensionHeadline(request, extension),
      extensionMessageBlocks(request, extension, rule, { waiting: true }),
    );
  }

  async extensionChanged(request: AccessRequest, extension: PendingExtension, note: string): Promise<void> {
    const message = request.pendingExtension?.message ?? extension.message;
    if (!message) return;
    const current = request.pendingExtension ?? extension;
    await this.update(
      message.channel,
      message.ts,
      extensionHeadline(request, current),
      extensionMessageBlocks(request, current, this.ruleByName(request.ruleName), {
        waiting: Boolean(request.pendingExtension),
        note,
      }),
    );
  }

  async remind(request: AccessRequest, rule: ApprovalRule): Promise<void> {
    const text = `:bell: Reminder: ${approversText(rule)}, request ${request.id} from ${mention(request.requesterId)} is still waiting (${request.approvals.length} of ${request.approvalsRequired} approvals).`;
    if (request.message) await this.post(request.message.channel, text, undefined, request.message.ts);
    else await this.post(rule.channel ?? this.channels.approvals, text);
  }

  async escalate(request: AccessRequest, rule: ApprovalRule): Promise<void> {
    const channel = rule.escalationChannel ?? this.channels.security;
    const text = `:arrow_double_up: Escalation: ${requestHeadline(request)} from ${mention(request.requesterId)} has had no decision since ${new Date(request.createdAt).toISOString()}. Approvers: ${approversText(rule)}.`;
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

  async onCallApproved(request: AccessRequest, why: string): Promise<void> {
    const alert = `:rotating_light: On-call auto-approval: ${mention(request.requesterId)} took *${escapeMrkdwn(request.templateName)}* on ${escapeMrkdwn(request.accountName)} (\`${request.accountId}\`) for ${formatDuration(request.durationSeconds)} without approval (request ${request.id}): ${escapeMrkdwn(why)}.`;
    await this.post(
      this.channels.security,
      `On-call auto-approval ${request.id} for ${request.requesterId}`,
      [
        { type: 'section', text: mrkdwn(alert) },
        { type: 'section', text: plainText(`Why: ${request.reason || '(no reason given)'}`) },
      ],
    );
  }

  async breakGlassReviewed(request: AccessRequest): Promise<void> {
    if (request.message) {
      await this.update(
        request.message.channel,
        request.message.ts,
        `Reviewed: ${requestHeadline(request)}`,
        this.blocks(request, undefined, true),
      );
    }
    const at = request.reviewedAt ? ` at ${new Date(request.reviewedAt).toISOString()}` : '';
    const text = `:white_check_mark: Break-glass request ${request.id} by ${mention(request.requesterId)} (*${escapeMrkdwn(request.templateName)}* on ${escapeMrkdwn(request.accountName)}) was reviewed by ${mention(request.reviewedBy ?? 'unknown')}${at}.`;
    await this.post(this.channels.security, `Break-glass request ${request.id} reviewed`, [
      { type: 'section', text: mrkdwn(text) },
    ]);
  }

  async alertSecurity(text: string, request?: AccessRequest): Promise<void> {
    await this.post(this.channels.security, escapeMrkdwn(text), [
      { type: 'section', text: plainText(`⚠ ${text}`) },
      ...(request
        ? [
            {
              type: 'context',
              elements: [mrkdwn(`${requestHeadline(request)} · ${mention(request.requesterId)}`)],
            } as KnownBlock,
          ]
        : []),
    ]);
  }
}
