/**
 * Everything the worker role runs: the BullMQ workers and Job Schedulers, each group on a Redis
 * connection this module opens and quits (see runtime.ts). Jobs reach people only through the
 * ports they are given; what is not given is not started. The grants, reconcile and hygiene
 * workers can be released at the shutdown deadline (their running jobs go back to `wait` at
 * once); the approvals, intake, notify and audit-anchor jobs are short Slack/S3 calls and are left to
 * BullMQ's stalled check if one is ever cut off.
 */
import type { WorkerOptions } from 'bullmq';
import type { AccountClients } from '../aws/account-clients.js';
import type { S3AuditAnchors } from '../aws/audit-anchor.js';
import type { EnvOptions } from '../config/env.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { AuditChannel } from '../domain/audit-channel.js';
import type { AccountDirectory, Clock, GrantEngine } from '../domain/ports.js';
import type { IntakeReplies } from '../domain/intake.js';
import type { DeferredNotificationSender } from '../domain/request-ports.js';
import type { RequestService } from '../domain/request-service.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../logger.js';
import type { HygieneAuditEvent, HygieneDeps } from '../domain/hygiene/ports.js';
import { startApprovalWorker } from './approval-workers.js';
import { startAuditAnchorWorker } from './audit-anchor.js';
import { startGrantWorker } from './grant-workers.js';
import { startHygieneWorkers } from './hygiene-workers.js';
import type { PostureJobInput } from './posture-sweep.js';
import type { ChangeAlertNotifier } from '../domain/iam-changes/ports.js';
import { startChangeAlertConsumer } from './iam-change-alerts.js';
import { startIntakeWorker } from './intake-worker.js';
import { startNotifyWorker } from './notify-worker.js';
import { QueueName } from './queues.js';
import { startReconcileWorker } from './reconcile.js';
import { redisTarget } from '../store/redis-connection.js';
import { closeAll, onWorkerConnection, releasable, type Closable } from './runtime.js';

export interface WorkerRoleContext {
  env: EnvOptions;
  loaded: LoadedConfig;
  logger: Logger;
  metrics: Metrics;
  clock: Clock;
  /** The request lifecycle the jobs act through (its notifier on the jobs' Slack client). */
  requests?: RequestService;
  /** The intake queue (one-line requests after their ack): answers go through `replies`. */
  intake?: { requests: RequestService; replies: IntakeReplies };
  /** The notify queue: deferred notifier posts are sent again, audit batches posted. */
  notify?: { notifications: DeferredNotificationSender; auditChannel: AuditChannel };
  /** The grant engine and the accounts: without them reconcile is not started. */
  grants?: GrantEngine;
  accounts?: AccountDirectory;
  /** Reconcile's step that re-reads the SCPs of accounts asked about lately (effective access). */
  refreshScps?: () => Promise<unknown>;
  /** Broker sessions and Slack for hygiene: without both the hygiene jobs are not started. */
  accountClients?: AccountClients;
  hygieneSlack?: Pick<HygieneDeps, 'notifier' | 'people'>;
  listAccountIds?: () => Promise<string[]>;
  hygieneAudit?: (event: HygieneAuditEvent) => Promise<void>;
  /** With it, the daily hygiene sweep also reviews IAM posture (#16). */
  posture?: PostureJobInput;
  /** With it and posture.alerts.queueUrl, the IAM change-alert consumer runs (#16). */
  changeAlerts?: ChangeAlertNotifier;
  /** Worker tuning for the grants and reconcile queues (lock duration, stalled interval). */
  workerOptions?: Partial<WorkerOptions>;
  /** Default true: upsert the reconcile Job Scheduler. */
  scheduleReconcile?: boolean;
  /** With `audit.anchor` configured: the S3 anchors and the chain key for the anchor job. */
  auditAnchor?: { anchors: S3AuditAnchors; chainKey: Buffer; intervalSeconds: number };
}

/** Starts the BullMQ workers and schedulers of the worker role. */
export async function startWorkerRole(context: WorkerRoleContext): Promise<Closable[]> {
  const { env, loaded, logger, metrics, clock } = context;
  const prefix = loaded.config.redis.prefix;
  const target = redisTarget(env, loaded.config.redis);
  const workers: Closable[] = [];
  const requests = context.requests;
  if (requests) {
    workers.push(
      await onWorkerConnection(target, (connection) =>
        startApprovalWorker({ connection, redisPrefix: prefix, requests, logger, metrics }),
      ),
    );
    workers.push(
      await onWorkerConnection(target, async (connection) => {
        const grantWorker = startGrantWorker({
          connection,
          redisPrefix: prefix,
          deps: { requests, clock, logger: logger.child({ queue: QueueName.grants }), metrics },
          workerOptions: {
            concurrency: loaded.config.revocation.workerConcurrency,
            ...context.workerOptions,
          },
        });
        const reconcile =
          context.grants && context.accounts
            ? await startReconcileWorker({
                connection,
                config: loaded.config,
                schedule: context.scheduleReconcile,
                workerOptions: context.workerOptions,
                deps: {
                  requests,
                  grants: context.grants,
                  accounts: context.accounts,
                  ...(context.refreshScps ? { refreshScps: context.refreshScps } : {}),
                  redis: connection,
                  redisPrefix: prefix,
                  clock,
                  stuckAfterSeconds: loaded.config.durations.provisioningTimeout,
                  accountConcurrency: loaded.config.aws.concurrency.accounts,
                  logger: logger.child({ queue: QueueName.reconcile }),
                  metrics,
                },
              })
            : undefined;
        // Revocations must not wait out a stalled-job check after a deploy: jobs still running at
        // the shutdown deadline are handed back (runtime.ts, `release`).
        return releasable(closeAll([grantWorker, reconcile]), [grantWorker.worker, reconcile?.worker]);
      }),
    );
  }
  const intake = context.intake;
  if (intake) {
    workers.push(
      await onWorkerConnection(target, (connection) =>
        startIntakeWorker({
          connection,
          redisPrefix: prefix,
          deps: { ...intake, logger: logger.child({ queue: QueueName.intake }) },
          metrics,
        }),
      ),
    );
  }
  const notify = context.notify;
  if (notify) {
    workers.push(
      await onWorkerConnection(target, (connection) =>
        startNotifyWorker({
          connection,
          deps: { ...notify, redisPrefix: prefix, clock },
          logger,
          metrics,
        }),
      ),
    );
  }
  const { accountClients, hygieneSlack } = context;
  if (accountClients && hygieneSlack) {
    workers.push(
      await onWorkerConnection(target, async (connection) => {
        const hygiene = await startHygieneWorkers({
          ...hygieneSlack,
          config: loaded.config,
          logger,
          connection,
          accounts: accountClients,
          audit: context.hygieneAudit,
          listAccountIds: context.listAccountIds,
          clock,
          metrics,
          posture: context.posture,
        });
        return releasable(hygiene, [hygiene.worker]);
      }),
    );
  }
  const changeAlerts = context.changeAlerts;
  if (changeAlerts && loaded.config.posture.alerts.queueUrl) {
    workers.push(
      await onWorkerConnection(target, (connection) =>
        startChangeAlertConsumer({
          config: loaded.config,
          connection,
          notifier: changeAlerts,
          clock,
          logger,
          aws: { region: env.awsRegion, endpoint: env.awsEndpointUrl, maxAttempts: 3 },
        }),
      ),
    );
  }
  const anchor = context.auditAnchor;
  if (anchor) {
    workers.push(
      await onWorkerConnection(target, (connection) =>
        startAuditAnchorWorker({
          connection,
          intervalSeconds: anchor.intervalSeconds,
          logger,
          metrics,
          deps: {
            redis: connection,
            redisPrefix: prefix,
            chainKey: anchor.chainKey,
            anchors: anchor.anchors,
            clock,
            logger: logger.child({ queue: QueueName.auditAnchor }),
          },
        }),
      ),
    );
  }
  return workers;
}
