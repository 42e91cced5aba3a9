/**
 * The "Snooze 7 days" button on a rotation reminder. Only the person the reminder was sent to
 * may snooze it (checked at click time); snoozing pauses that DM's keys for seven days and is
 * audited. Escalation to the security team is not paused.
 */
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { Redis } from 'ioredis';
import type { AppConfig } from '../../config/schema.js';
import { snoozeUntil } from '../../domain/hygiene/reminders.js';
import { systemClock, type Clock } from '../../domain/ports.js';
import type { Logger } from '../../logger.js';
import { HygieneStore, hygieneAuditor, type HygieneAuditEvent } from '../../store/hygiene-store.js';
import { snoozedMessage, SNOOZE_ACTION_ID } from './messages.js';

export interface HygieneListenerDeps {
  redis: Redis;
  config: AppConfig;
  logger: Logger;
  clock?: Clock;
  audit?: (event: HygieneAuditEvent) => Promise<void>;
}

export function register(app: App, deps: HygieneListenerDeps): void {
  const store = new HygieneStore(deps.redis, deps.config.redis.prefix);
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger.child({ listener: 'hygiene-snooze' });
  const audit = hygieneAuditor(store, logger, clock, deps.audit);

  app.action<BlockAction<ButtonAction>>(SNOOZE_ACTION_ID, async ({ ack, body, action, client, respond }) => {
    await ack();
    const userId = body.user.id;
    const reminder = action.value ? await store.getReminderMessage(action.value) : undefined;
    const tell = async (text: string) => {
      if (body.response_url) await respond({ response_type: 'ephemeral', replace_original: false, text });
      else await client.chat.postEphemeral({ channel: body.channel?.id ?? userId, user: userId, text });
    };
    if (!reminder) {
      await tell('This reminder is too old to snooze; a new one comes with the next daily run.');
      return;
    }
    if (reminder.slackUserId !== userId) {
      logger.warn({ userId, owner: reminder.slackUserId }, 'snooze refused: not the reminder owner');
      await tell(`Only <@${reminder.slackUserId}> can snooze this reminder.`);
      return;
    }
    const until = snoozeUntil(new Date(clock.now()));
    await store.snooze(reminder.findingIds, until.getTime());
    for (const findingId of reminder.findingIds) {
      await audit({
        type: 'hygiene.reminder-snoozed',
        actor: userId,
        findingId,
        detail: `rotation reminder snoozed until ${until.toISOString()}`,
      });
    }
    const channel = body.channel?.id ?? reminder.channel;
    const ts = body.message?.ts ?? reminder.ts;
    if (channel && ts)
      await client.chat.update({ channel, ts, ...snoozedMessage(reminder.findingIds.length, until, userId) });
  });
}
