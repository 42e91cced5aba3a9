/**
 * The worker for pending requests: remind-<id>, escalate-<id> and expire-<id>. Each handler asks
 * the RequestService, which acts only if the request is still pending, so a job that fires after
 * a decision (or twice) does nothing.
 */
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RequestService } from '../domain/request-service.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../logger.js';
import { ApprovalJob, type RequestJobData } from './approval-scheduler.js';
import { watchFailures } from './metrics.js';
import { QueueName, workerOptions } from './queues.js';
import type { Closable } from './runtime.js';

export function startApprovalWorker(options: {
  connection: Redis;
  redisPrefix: string;
  requests: RequestService;
  logger: Logger;
  metrics?: Metrics;
}): Closable {
  const worker = new Worker<RequestJobData>(
    QueueName.approvals,
    async (job) => {
      const { requestId } = job.data;
      switch (job.name) {
        case ApprovalJob.remind:
          return { acted: await options.requests.remind(requestId) };
        case ApprovalJob.escalate:
          return { acted: await options.requests.escalate(requestId) };
        case ApprovalJob.expire:
          return { acted: await options.requests.expirePending(requestId) };
        default:
          options.logger.warn({ job: job.name }, 'unknown approvals job');
          return { acted: false };
      }
    },
    workerOptions(options.connection, options.redisPrefix),
  );
  watchFailures(worker, QueueName.approvals, options.metrics, options.logger);
  return { close: () => worker.close() };
}
