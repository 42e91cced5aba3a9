import type { Closable } from './runtime.js';
import type { WebClient } from '@slack/web-api';
import type { WorkerOptions } from 'bullmq';
import type { EnvOptions } from '../config/env.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { RequestService } from '../domain/request-service.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../logger.js';
import { startApprovalWorker } from './approval-workers.js';
import { startAuditAnchorWorker } from './audit-anchor.js';
import { startAuditBatchWorker } from './audit-batches.js';
import type { S3AuditAnchors } from '../aws/audit-anchor.js';
import type { AccountClients } from '../aws/account-clients.js';
import { systemClock, type AccountDirectory, type Clock, type GrantEngine } from '../domain/ports.js';
import type { HygieneAuditEvent, HygieneDeps } from '../domain/hygiene/ports.js';
import { createRedis } from '../store/redis-connection.js';
import { startGrantWorker } from './grant-workers.js';
import { startHygieneWorkers } from './hygiene-workers.js';
import { QueueName } from './queues.js';
import { startReconcileWorker } from './reconcile.js';

export interface WorkerContext {
  env: EnvOptions;
  loaded: LoadedConfig;
  logger: Logger;
  metrics: Metrics;
  /** The request lifecycle the jobs act through (its notifier should use the job Slack client). */
  requests?: RequestService;
  /** For posts made from jobs; rejects rate-limited calls so BullMQ retries them. */
  jobSlackClient?: WebClient;
  clock?: Clock;
  /** The grant engine and the accounts: without them reconcile is not started. */
  grants?: GrantEngine;
  accounts?: AccountDirectory;
  /** Broker sessions: without them the hygiene jobs are not started. */
  accountClients?: AccountClients;
  listAccountIds?: () => Promise<string[]>;
  hygieneAudit?: (event: HygieneAuditEvent) => Promise<void>;
  /** The hygiene jobs' Slack side (`slackHygieneAdapters` on the job Slack client). */
  hygieneSlack?: Pick<HygieneDeps, 'notifier' | 'people'>;
  /** Worker tuning for the grants and reconcile queues (lock duration, stalled interval). */
  workerOptions?: Partial<WorkerOptions>;
  /** Default true: upsert the reconcile Job Scheduler. */
  scheduleReconcile?: boolean;
  /** With `audit.anchor` configured: the S3 anchors and the chain key for the anchor job. */
  auditAnchor?: { anchors: S3AuditAnchors; chainKey: Buffer; intervalSeconds: number };
}

/** Starts the BullMQ workers and schedulers of the worker role. */
export async function startWorkers(context: WorkerContext): Promise<Closable[]> {
  const { env, loaded, logger, metrics } = context;
  const prefix = loaded.config.redis.prefix;
  const clock = context.clock ?? systemClock;
  const workers: Closable[] = [];
  if (context.requests) {
    workers.push(
      startApprovalWorker({
        redisUrl: env.redisUrl,
        redisPrefix: prefix,
        requests: context.requests,
        logger,
        metrics,
      }),
    );
    // Workers block on Redis: one connection each kind, retrying forever.
    const connection = createRedis(env.redisUrl, 'worker');
    const grantWorker = startGrantWorker({
      connection,
      redisPrefix: prefix,
      deps: { requests: context.requests, clock, logger: logger.child({ queue: QueueName.grants }), metrics },
      workerOptions: context.workerOptions,
    });
    const reconcile =
      context.grants && context.accounts
        ? await startReconcileWorker({
            connection,
            config: loaded.config,
            schedule: context.scheduleReconcile,
            workerOptions: context.workerOptions,
            deps: {
              requests: context.requests,
              grants: context.grants,
              accounts: context.accounts,
              redis: connection,
              redisPrefix: prefix,
              clock,
              stuckAfterSeconds: loaded.config.durations.provisioningTimeout,
              logger: logger.child({ queue: QueueName.reconcile }),
              metrics,
            },
          })
        : undefined;
    workers.push({
      close: async () => {
        await grantWorker.close();
        await reconcile?.close();
        await connection.quit().catch(() => connection.disconnect());
      },
    });
  }
  if (context.jobSlackClient) {
    workers.push(
      startAuditBatchWorker({
        redisUrl: env.redisUrl,
        redisPrefix: prefix,
        client: context.jobSlackClient,
        channel: loaded.config.slack.channels.audit,
        logger,
        metrics,
      }),
    );
  }
  if (context.accountClients && context.hygieneSlack) {
    const connection = createRedis(env.redisUrl, 'worker');
    const hygiene = await startHygieneWorkers({
      ...context.hygieneSlack,
      config: loaded.config,
      logger,
      connection,
      accounts: context.accountClients,
      audit: context.hygieneAudit,
      listAccountIds: context.listAccountIds,
      clock: context.clock,
      metrics,
    });
    workers.push({
      close: async () => {
        await hygiene.close();
        await connection.quit().catch(() => connection.disconnect());
      },
    });
  }
  if (context.auditAnchor) {
    const connection = createRedis(env.redisUrl, 'worker');
    const anchor = await startAuditAnchorWorker({
      connection,
      intervalSeconds: context.auditAnchor.intervalSeconds,
      logger,
      metrics,
      deps: {
        redis: connection,
        redisPrefix: prefix,
        chainKey: context.auditAnchor.chainKey,
        anchors: context.auditAnchor.anchors,
        logger: logger.child({ queue: QueueName.auditAnchor }),
      },
    });
    workers.push({
      close: async () => {
        await anchor.close();
        await connection.quit().catch(() => connection.disconnect());
      },
    });
  }
  return workers;
}
