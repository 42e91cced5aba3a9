/**
 * The "Accept risk…" button on posture messages: opens a modal asking why and for how long;
 * the submission goes to the `acceptPostureRisk` use case, which checks the clicker (the DM's
 * owner; a member of the security channel for its posts, asked of Slack with
 * conversations.members at the click and again at the submission) and audits each finding.
 */
import type { BlockAction, ButtonAction } from '@slack/bolt';
import type { ListenerApp } from '../listener-router.js';
import type { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import type { AppConfig } from '../../config/schema.js';
import { hygieneAuditor } from '../../domain/hygiene/audit.js';
import type { HygieneAuditEvent } from '../../domain/hygiene/ports.js';
import { acceptPostureRisk, mayAcceptRisk } from '../../domain/posture/accept-risk.js';
import type { Clock } from '../../domain/ports.js';
import type { Logger } from '../../logger.js';
import { HygieneStore } from '../../store/hygiene-store.js';
import { PostureStore } from '../../store/posture-store.js';
import { ACCEPT_RISK_ACTION_ID, ACCEPT_RISK_MODAL_ID, acceptRiskModal } from './messages.js';

export interface PostureListenerDeps {
  redis: Redis;
  config: AppConfig;
  logger: Logger;
  clock: Clock;
  audit?: (event: HygieneAuditEvent) => Promise<void>;
}

type Values = Record<
  string,
  Record<string, { value?: string | null; selected_option?: { value: string } | null }>
>;

/** Whether `userId` is a member of `channel` now (conversations.members, paged). */
export async function isChannelMember(client: WebClient, channel: string, userId: string): Promise<boolean> {
  let cursor: string | undefined;
  do {
    const res = await client.conversations.members({ channel, limit: 1000, cursor });
    if (res.members?.includes(userId)) return true;
    cursor = res.response_metadata?.next_cursor || undefined;
  } while (cursor);
  return false;
}

const REFUSED_NOT_MEMBER = 'Only members of the security channel can accept these findings.';

export function register(app: ListenerApp, deps: PostureListenerDeps): void {
  const store = new PostureStore(deps.redis, deps.config.redis.prefix);
  const logger = deps.logger.child({ listener: 'posture-accept-risk' });
  const audit = hygieneAuditor(
    new HygieneStore(deps.redis, deps.config.redis.prefix),
    logger,
    deps.clock,
    deps.audit,
  );

  app.action<BlockAction<ButtonAction>>(ACCEPT_RISK_ACTION_ID, async ({ ack, body, action, client }) => {
    await ack();
    const message = await store.getMessage(action.value ?? '');
    const userId = body.user.id;
    const tell = (text: string) =>
      client.chat.postEphemeral({ channel: body.channel?.id ?? userId, user: userId, text });
    if (!message)
      return void (await tell('These findings are too old to accept; the next sweep reports them again.'));
    const isSecurityMember = (id: string) => isChannelMember(client, deps.config.slack.channels.security, id);
    const refused = await mayAcceptRisk({ isSecurityMember }, message, userId);
    if (refused) {
      logger.warn({ userId, outcome: refused.outcome }, 'accept risk refused at the click');
      return void (await tell(
        refused.outcome === 'not-owner'
          ? `Only <@${refused.owner}> can accept these findings.`
          : REFUSED_NOT_MEMBER,
      ));
    }
    await client.views.open({
      trigger_id: body.trigger_id,
      view: acceptRiskModal(message.id, message.findingIds.length),
    });
  });

  app.view(ACCEPT_RISK_MODAL_ID, async ({ ack, body, view, client }) => {
    const values = view.state.values as Values;
    const reason = values.reason?.reason?.value?.trim() ?? '';
    if (!reason) {
      await ack({ response_action: 'errors', errors: { reason: 'Say why, for the audit log' } });
      return;
    }
    await ack();
    const days = Number(values.days?.days?.selected_option?.value ?? '30');
    const result = await acceptPostureRisk(
      {
        store,
        audit,
        clock: deps.clock,
        isSecurityMember: (id) => isChannelMember(client, deps.config.slack.channels.security, id),
      },
      { messageId: view.private_metadata, slackUserId: body.user.id, reason, days },
    );
    const text =
      result.outcome === 'accepted'
        ? `Accepted ${result.message.findingIds.length} posture findings until ${result.until.toISOString().slice(0, 10)}.`
        : result.outcome === 'not-owner'
          ? `Only <@${result.owner}> can accept these findings.`
          : result.outcome === 'not-security-member'
            ? REFUSED_NOT_MEMBER
            : 'These findings could not be accepted (message expired, no reason or no duration).';
    if (result.outcome !== 'accepted')
      logger.warn({ userId: body.user.id, outcome: result.outcome }, 'accept risk refused');
    await client.chat.postMessage({ channel: body.user.id, text });
  });
}
