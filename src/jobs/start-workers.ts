import type { WebClient } from '@slack/web-api';
import type { EnvOptions } from '../config/env.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { RequestService } from '../domain/request-service.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../logger.js';
import { startApprovalWorker } from './approval-workers.js';
import { startAuditBatchWorker } from './audit-batches.js';
import type { AccountClients } from '../aws/account-clients.js';
import type { Clock } from '../domain/ports.js';
import type { HygieneAuditEvent } from '../store/hygiene-store.js';
import { createRedis } from '../store/redis-connection.js';
import { startHygieneWorkers } from './hygiene-workers.js';

export interface WorkerContext {
  env: EnvOptions;
  loaded: LoadedConfig;
  logger: Logger;
  metrics: Metrics;
  /** The request lifecycle the jobs act through. */
  requests?: RequestService;
  /** For posts made from jobs; rejects rate-limited calls so BullMQ retries them. */
  jobSlackClient?: WebClient;
  clock?: Clock;
  /** Broker sessions: without them the hygiene jobs are not started. */
  accountClients?: AccountClients;
  listAccountIds?: () => Promise<string[]>;
  hygieneAudit?: (event: HygieneAuditEvent) => Promise<void>;
}

export interface Closable {
  close(): Promise<void>;
}

/** Starts the BullMQ workers and schedulers of the worker role. */
export async function startWorkers(context: WorkerContext): Promise<Closable[]> {
  const { env, loaded, logger } = context;
  const prefix = loaded.config.redis.prefix;
  const workers: Closable[] = [];
  if (context.requests) {
    workers.push(
      startApprovalWorker({
        redisUrl: env.redisUrl,
        redisPrefix: prefix,
        requests: context.requests,
        logger,
      }),
    );
  }
  if (context.jobSlackClient) {
    workers.push(
      startAuditBatchWorker({
        redisUrl: env.redisUrl,
        redisPrefix: prefix,
        client: context.jobSlackClient,
        channel: loaded.config.slack.channels.audit,
        logger,
      }),
    );
  }
  if (context.accountClients && context.jobSlackClient) {
    const connection = createRedis(env.redisUrl, 'worker');
    const hygiene = await startHygieneWorkers({
      env,
      config: loaded.config,
      logger,
      connection,
      accounts: context.accountClients,
      audit: context.hygieneAudit,
      listAccountIds: context.listAccountIds,
      clock: context.clock,
      slack: context.jobSlackClient,
    });
    workers.push({
      close: async () => {
        await hygiene.close();
        await connection.quit().catch(() => connection.disconnect());
      },
    });
  }
  return workers;
}
