/**
 * The IAM change-alert consumer of the worker role (started when posture.alerts.queueUrl is
 * set): a loop of one long poll of the SQS queue, then a flush of the grouped alerts that are
 * due. An error in either step is logged and the loop goes on after a short pause: a poison
 * message, Slack being down or Redis failing over never stops the consumer. A change under
 * /aws-access/ not made by the bot queues a reconcile at once (job id per event, so a
 * redelivered event queues it once).
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AwsSettings } from '../aws/aws-clients.js';
import { sqsChangeQueue } from '../aws/iam-change-queue.js';
import type { AppConfig } from '../config/schema.js';
import {
  flushAlerts,
  handleBatch,
  pollSeconds,
  type ChangeConsumerDeps,
} from '../domain/iam-changes/consume.js';
import type { ChangeAlertNotifier, ChangeQueue, ReconcileTrigger } from '../domain/iam-changes/ports.js';
import type { Clock } from '../domain/ports.js';
import type { Logger } from '../logger.js';
import { RedisChangeAlertStore } from '../store/change-alert-store.js';
import { QueueName, queueOptions } from './queues.js';
import { POSTURE_DRIFT_JOB } from './posture-sweep.js';
import { RECONCILE_JOB } from './reconcile.js';

/** Alerts in one Slack post; a larger burst is several posts. */
export const MAX_ALERTS_PER_POST = 30;
const PAUSE_AFTER_ERROR_MS = 5_000;

const TRIGGERED = { attempts: 3, removeOnComplete: { count: 100 }, removeOnFail: { count: 500 } };

/**
 * Reconcile now (it goes over every account; the account is recorded for the log), and, when
 * the posture review runs, the drift check too, so a changed grant role is told at once.
 */
export function reconcileTrigger(reconcile: Queue, hygiene?: Queue): ReconcileTrigger {
  return {
    async reconcileNow(accountId, eventId) {
      await reconcile.add(
        RECONCILE_JOB,
        { accountId, trigger: 'iam-change', eventId },
        { jobId: `reconcile-iam-change-${eventId}`, ...TRIGGERED },
      );
      await hygiene?.add(
        POSTURE_DRIFT_JOB,
        { accountId, trigger: 'iam-change', eventId },
        { jobId: `posture-drift-iam-change-${eventId}`, ...TRIGGERED },
      );
    },
  };
}

export interface ChangeAlertConsumerOptions {
  config: AppConfig;
  /** Worker connection (BullMQ needs maxRetriesPerRequest null). */
  connection: Redis;
  notifier: ChangeAlertNotifier;
  clock: Clock;
  logger: Logger;
  aws: AwsSettings;
  /** Test hooks: another queue, a shorter long poll, a shorter pause after errors. */
  queue?: ChangeQueue;
  waitTimeSeconds?: number;
  pauseAfterErrorMs?: number;
}

export interface ChangeAlertConsumer {
  deps: ChangeConsumerDeps;
  /** One poll and one flush (what the loop does each turn). */
  turn(): Promise<void>;
  close(): Promise<void>;
}

export function changeAlertDeps(
  options: ChangeAlertConsumerOptions,
  signal?: AbortSignal,
): ChangeConsumerDeps & { reconcileQueue: Queue; hygieneQueue?: Queue } {
  const { config } = options;
  const alerts = config.posture.alerts;
  const reconcileQueue = new Queue(
    QueueName.reconcile,
    queueOptions(options.connection, config.redis.prefix),
  );
  const hygieneQueue = config.posture.enabled
    ? new Queue(QueueName.hygiene, queueOptions(options.connection, config.redis.prefix))
    : undefined;
  return {
    reconcileQueue,
    hygieneQueue,
    queue:
      options.queue ??
      sqsChangeQueue({
        queueUrl: alerts.queueUrl!,
        settings: options.aws,
        waitTimeSeconds: options.waitTimeSeconds,
        signal,
      }),
    store: new RedisChangeAlertStore(options.connection, config.redis.prefix),
    notifier: options.notifier,
    reconcile: reconcileTrigger(reconcileQueue, hygieneQueue),
    settings: {
      events: alerts.events,
      botRoleNames: [config.aws.brokerRoleName, config.aws.boundaryWriterRoleName],
      groupWindowMs: alerts.groupWindow * 1000,
      maxPostsPerMinute: alerts.maxPostsPerMinute,
      maxAlertsPerPost: MAX_ALERTS_PER_POST,
    },
    clock: options.clock,
    log: options.logger.child({ component: 'iam-change-alerts' }),
  };
}

export function startChangeAlertConsumer(options: ChangeAlertConsumerOptions): ChangeAlertConsumer {
  const abort = new AbortController();
  const deps = changeAlertDeps(options, abort.signal);
  const log = deps.log;
  let stopped = false;
  const turn = async () => {
    const batch = await handleBatch(deps, await pollSeconds(deps, options.waitTimeSeconds ?? 20));
    if (batch.received > 0) log.info(batch, 'IAM change messages handled');
    await flushAlerts(deps);
  };
  const loop = (async () => {
    while (!stopped) {
      try {
        await turn();
      } catch (error) {
        if (stopped) break;
        log.error({ err: error }, 'IAM change consumer turn failed; going on');
        await new Promise((resolve) =>
          setTimeout(resolve, options.pauseAfterErrorMs ?? PAUSE_AFTER_ERROR_MS),
        );
      }
    }
  })();
  return {
    deps,
    turn,
    close: async () => {
      stopped = true;
      abort.abort();
      await loop;
      await deps.reconcileQueue.close();
      await deps.hygieneQueue?.close();
    },
  };
}
