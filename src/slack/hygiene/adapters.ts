import type { WebClient } from '@slack/web-api';
import type { AppConfig } from '../../config/schema.js';
import type { HygieneNotifier, PeopleDirectory } from '../../domain/hygiene/ports.js';
import type { Logger } from '../../logger.js';
import { SlackHygieneNotifier } from './notifier.js';
import { SlackPeopleDirectory } from './people-directory.js';

/** The Slack side of the hygiene jobs; pass it to `hygieneContext` / `startHygieneWorkers`. */
export interface HygieneSlackAdapters {
  notifier: HygieneNotifier;
  people: PeopleDirectory;
}

/**
 * Both adapters on one client. Jobs pass a client with `rejectRateLimitedCalls` and few
 * retries, so a 429 fails the job and BullMQ's backoff retries it (the directory read waits
 * out a 429 itself, so that a long read is not started over).
 */
export function slackHygieneAdapters(
  slack: WebClient,
  config: AppConfig,
  options: { logger: Logger; sleep?: (ms: number) => Promise<void> },
): HygieneSlackAdapters {
  const h = config.hygiene;
  return {
    notifier: new SlackHygieneNotifier(slack, {
      securityChannel: config.slack.channels.security,
      accountNames: new Map(config.aws.accounts.filter((a) => a.name).map((a) => [a.id, a.name!])),
      rotationDays: h.rotationDays,
      unusedKeyDays: h.unusedKeyDays,
      escalateAfterDays: h.escalateAfterDays,
    }),
    people: new SlackPeopleDirectory(slack, {
      logger: options.logger.child({ component: 'hygiene' }),
      ...(options.sleep ? { sleep: options.sleep } : {}),
    }),
  };
}
