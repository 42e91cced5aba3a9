/**
 * AuditChannel over the Slack Web API: one message per batch, a line per audit event, every
 * name and reason escaped so an event cannot ping the channel.
 */
import type { WebClient } from '@slack/web-api';
import type { AuditChannel, AuditChannelEntry } from '../domain/audit-channel.js';
import type { AuditEvent } from '../domain/audit-event.js';
import { clip, escapeMrkdwn, mention } from './mrkdwn.js';
import { retryLaterWhenRateLimited } from './slack-client.js';

export function auditLine(id: string, event: AuditEvent): string {
  const states =
    event.stateBefore || event.stateAfter ? ` ${event.stateBefore ?? '∅'} → ${event.stateAfter ?? '∅'}` : '';
  const outcome = event.outcome === 'ok' ? '' : ` *${event.outcome}*`;
  const request = event.requestId ? ` \`${escapeMrkdwn(event.requestId)}\`` : '';
  // Clipped after escaping, so a batch of lines stays far below Slack's limit on `text`.
  const reason = event.reason ? ` – ${clip(escapeMrkdwn(event.reason), 300)}` : '';
  return `\`${event.at}\` ${mention(event.actor)} ${escapeMrkdwn(event.action)}${request}${states}${outcome}${reason} _(${id})_`;
}

export class SlackAuditChannel implements AuditChannel {
  /** `client` should be the jobs client: a 429 becomes RetryLaterError instead of a wait. */
  constructor(
    private readonly client: WebClient,
    private readonly channel: string,
  ) {}

  async post(entries: AuditChannelEntry[]): Promise<void> {
    await retryLaterWhenRateLimited(() =>
      this.client.chat.postMessage({
        channel: this.channel,
        text: entries.map((e) => auditLine(e.id, e.event)).join('\n'),
        unfurl_links: false,
        unfurl_media: false,
      }),
    );
  }
}
