/**
 * The "Snooze 7 days" button on a rotation reminder: the click goes to the `snoozeReminder`
 * use case (which checks that the clicker is the reminder's owner and audits), and this
 * listener shows its outcome.
 */
import type { BlockAction, ButtonAction } from '@slack/bolt';
import type { ListenerApp } from '../listener-router.js';
import type { Redis } from 'ioredis';
import type { AppConfig } from '../../config/schema.js';
import { hygieneAuditor } from '../../domain/hygiene/audit.js';
import type { HygieneAuditEvent } from '../../domain/hygiene/ports.js';
import { snoozeReminder } from '../../domain/hygiene/snooze-reminder.js';
import type { Clock } from '../../domain/ports.js';
import type { Logger } from '../../logger.js';
import { HygieneStore } from '../../store/hygiene-store.js';
import { snoozedMessage, SNOOZE_ACTION_ID } from './messages.js';

export interface HygieneListenerDeps {
  redis: Redis;
  config: AppConfig;
  logger: Logger;
  clock: Clock;
  audit?: (event: HygieneAuditEvent) => Promise<void>;
}

export function register(app: ListenerApp, deps: HygieneListenerDeps): void {
  const store = new HygieneStore(deps.redis, deps.config.redis.prefix);
  const clock = deps.clock;
  const logger = deps.logger.child({ listener: 'hygiene-snooze' });
  const snooze = { store, clock, audit: hygieneAuditor(store, logger, clock, deps.audit) };

  app.action<BlockAction<ButtonAction>>(SNOOZE_ACTION_ID, async ({ ack, body, action, client, respond }) => {
    await ack();
    const userId = body.user.id;
    const tell = async (text: string) => {
      if (body.response_url) await respond({ response_type: 'ephemeral', replace_original: false, text });
      else await client.chat.postEphemeral({ channel: body.channel?.id ?? userId, user: userId, text });
    };
    const result = await snoozeReminder(snooze, action.value, userId);
    switch (result.outcome) {
      case 'unknown-reminder':
        await tell('This reminder is too old to snooze; a new one comes with the next daily run.');
        return;
      case 'not-owner':
        logger.warn({ userId, owner: result.owner }, 'snooze refused: not the reminder owner');
        await tell(`Only <@${result.owner}> can snooze this reminder.`);
        return;
      case 'snoozed': {
        const { reminder, until } = result;
        const channel = body.channel?.id ?? reminder.channel;
        const ts = body.message?.ts ?? reminder.ts;
        if (channel && ts)
          await client.chat.update({
            channel,
            ts,
            ...snoozedMessage(reminder.findingIds.length, until, userId),
          });
      }
    }
  });
}
