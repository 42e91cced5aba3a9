/**
 * Reconcile: the safety net under the revoke jobs. A Job Scheduler runs it (default every 5
 * minutes, UTC); `runReconcile` is the whole run and can be called directly. Per account it asks
 * the grant engine which `/aws-access/` roles exist and:
 * - revokes overdue roles (active grant past its end) and orphaned ones (no open request):
 *   through the request when there is one, so the request ends `revoked` with its audit event;
 *   the request id is the role's name, never its tag (a differing tag is reported to security);
 * - removes roles under /aws-access/ the bot never makes (sub-paths, foreign names) and
 *   reports them to security;
 * - retries every `revoke-failed` request until the role is gone;
 * - alerts security (once a day per request) about active grants whose role is missing;
 * - repairs requests stuck in `approved` past `stuckAfterSeconds` (a crash between approval and
 *   grant) by running the grant again, which ends `active` or `failed` with an alert;
 * - re-reads the SCPs of accounts asked about lately (`refreshScps`, effective access).
 * So a lost revoke job, a crashed worker or a wiped Redis still ends access.
 */
import { holdsRole } from '../domain/model/state.js';
import { Queue, Worker, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AppConfig } from '../config/schema.js';
import type { AccessRequest } from '../domain/access-request.js';
import type { AccountDirectory, Clock, GrantEngine, ManagedRole } from '../domain/ports.js';
import { SYSTEM_ACTOR, type RequestService } from '../domain/request-service.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../logger.js';
import { recordRevocation, watchFailures } from './metrics.js';
import { QueueName, queueOptions, workerOptions } from './queues.js';
import type { Closable } from './runtime.js';

export const RECONCILE_SCHEDULER = 'reconcile';
export const RECONCILE_JOB = 'reconcile';
/** A request still `approved` this long after its approval has lost its grant to a crash. */
export const DEFAULT_STUCK_AFTER_SECONDS = 600;

export interface ReconcileDeps {
  requests: RequestService;
  grants: GrantEngine;
  accounts: AccountDirectory;
  /**
   * Re-reads the SCPs of the accounts asked about lately, so the effective-access summaries of
   * new requests follow SCP changes within one reconcile interval. Failures never fail the run.
   */
  refreshScps?: () => Promise<unknown>;
  /** For the once-a-day marker of missing-role alerts. */
  redis: Redis;
  redisPrefix: string;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
  stuckAfterSeconds?: number;
  /**
   * Accounts reconciled at once (`aws.concurrency.accounts`; 1 when not given). Calls inside each
   * account are paced by the broker sessions (`aws.concurrency.perAccount`, `callsPerSecond`).
   */
  accountConcurrency?: number;
}

export interface ReconcileSummary {
  accounts: number;
  /** Request ids whose grant reconcile revoked (overdue, orphaned or revoke-failed). */
  revoked: string[];
  /** Roles removed that no open request accounted for. */
  removedOrphans: string[];
  /** `<account>:<path><name>` of roles under /aws-access/ the bot never makes (removed). */
  removedForeign: string[];
  /** Roles whose request-id tag disagrees with their name (security alerted). */
  tagMismatches: string[];
  missing: string[];
  repaired: string[];
  /** Request ids or accounts where something failed this run (retried next run). */
  failed: string[];
}

async function accountIds(deps: ReconcileDeps, open: AccessRequest[]): Promise<string[]> {
  const ids = new Set(open.map((r) => r.accountId));
  try {
    for (const account of await deps.accounts.listAccounts()) ids.add(account.id);
  } catch (error) {
    deps.logger.warn({ err: error }, 'listing accounts failed; reconciling accounts with open grants only');
  }
  return [...ids].sort();
}

/** Runs `each` over `items`, at most `limit` at a time, in order of start. */
async function forEachBounded<T>(items: T[], limit: number, each: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await each(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}

export async function runReconcile(deps: ReconcileDeps): Promise<ReconcileSummary> {
  const { requests, clock, logger } = deps;
  const summary: ReconcileSummary = {
    accounts: 0,
    revoked: [],
    removedOrphans: [],
    removedForeign: [],
    tagMismatches: [],
    missing: [],
    repaired: [],
    failed: [],
  };
  const handled = new Set<string>();

  const revoke = async (request: AccessRequest, reason: string) => {
    handled.add(request.id);
    try {
      // A request already revoke-failed has alerted security once; do not page again every run.
      const result = await requests.revokeGrant(request.id, SYSTEM_ACTOR, {
        reason,
        recordFailure: request.state === 'active',
      });
      if (result.ok && result.changed !== false) {
        summary.revoked.push(request.id);
        recordRevocation(deps.metrics, result, request, clock.now());
      }
    } catch (error) {
      if (request.state === 'active') deps.metrics?.revocations.inc({ result: 'failed' });
      summary.failed.push(request.id);
      logger.warn({ err: error, requestId: request.id }, 'reconcile could not revoke; next run retries');
    }
  };

  // 1. Requests stuck between approval and grant.
  const stuckBefore = clock.now() - (deps.stuckAfterSeconds ?? DEFAULT_STUCK_AFTER_SECONDS) * 1000;
  for (const request of await requests.listInState('approved')) {
    // updatedAt: the approval, or a provisioner's claim (provision sets it), whichever is later.
    if (Math.max(request.decidedAt ?? 0, request.updatedAt) > stuckBefore) continue;
    try {
      const after = await requests.provision(request.id, { staleBefore: stuckBefore });
      // Claimed by another run or provisioner meanwhile: not repaired by this run.
      if (after?.state === 'approved') continue;
      summary.repaired.push(request.id);
      logger.warn({ requestId: request.id, state: after?.state }, 'repaired a request stuck in approved');
    } catch (error) {
      summary.failed.push(request.id);
      logger.warn({ err: error, requestId: request.id }, 'repairing a stuck request failed');
    }
  }

  // 2. Every account: roles against the store.
  const active = await requests.listInState('active');
  const revokeFailed = await requests.listInState('revoke-failed');
  const accounts = await accountIds(deps, [...active, ...revokeFailed]);
  summary.accounts = accounts.length;
  // Accounts run side by side; one failing (listing, Redis, anything) is reported and retried
  // by the next run without holding up the others.
  const reconcileAccount = async (accountId: string) => {
    const grants = new Map(
      active
        .filter((r) => r.accountId === accountId && r.expiresAt !== undefined)
        .map((r) => [r.id, new Date(r.expiresAt!)] as const),
    );
    let report;
    try {
      report = await deps.grants.reconcile(accountId, grants);
    } catch (error) {
      summary.failed.push(accountId);
      logger.warn({ err: error, accountId }, 'reconcile could not list roles; next run retries');
      return;
    }
    // Roles someone else put under /aws-access/ (sub-paths, foreign names): removed, reported.
    for (const role of report.foreign ?? []) {
      const where = `${accountId}:${role.path ?? ''}${role.roleName}`;
      try {
        if (await requests.removeForeignRole(accountId, role)) {
          summary.removedForeign.push(where);
          deps.metrics?.revocations.inc({ result: 'ok' });
        }
      } catch (error) {
        summary.failed.push(where);
        logger.warn({ err: error, accountId, roleName: role.roleName }, 'removing a foreign role failed');
      }
    }
    // The role's name is its request id; a tag saying otherwise was changed outside the bot.
    for (const role of report.tagMismatches ?? []) {
      summary.tagMismatches.push(role.roleName);
      const marker = `${deps.redisPrefix}:reconcile:tag-mismatch-alerted:${accountId}:${role.roleName}`;
      if ((await deps.redis.set(marker, '1', 'EX', 86_400, 'NX')) === 'OK') {
        await requests.reportRoleTagMismatch(accountId, role).catch(async (error: unknown) => {
          await deps.redis.del(marker);
          logger.warn({ err: error, roleName: role.roleName }, 'tag-mismatch alert failed; next run retries');
        });
      }
    }
    const roles: Array<[ManagedRole, 'overdue' | 'orphaned']> = [
      ...report.overdue.map((r) => [r, 'overdue'] as [ManagedRole, 'overdue']),
      ...report.orphaned.map((r) => [r, 'orphaned'] as [ManagedRole, 'orphaned']),
    ];
    for (const [role, kind] of roles) {
      const requestId = role.requestId;
      if (!requestId || handled.has(requestId)) continue;
      // Re-read: the request may have moved since the lists above were taken.
      const request = await requests.get(requestId);
      if (request?.state === 'approved') continue; // being granted right now; step 1 repairs it later
      if (request && holdsRole(request.state)) {
        if (request.state === 'active' && (request.expiresAt ?? 0) > clock.now()) continue;
        await revoke(request, kind === 'overdue' ? 'overdue, ended by reconcile' : 'ended by reconcile');
        continue;
      }
      handled.add(requestId);
      try {
        const why = request ? `its request is ${request.state}` : 'no request in the store accounts for it';
        if (await requests.removeOrphanedRole(accountId, requestId, why)) {
          summary.removedOrphans.push(requestId);
          deps.metrics?.revocations.inc({ result: 'ok' });
        }
      } catch (error) {
        summary.failed.push(requestId);
        logger.warn({ err: error, requestId, accountId }, 'removing an orphaned role failed');
      }
    }
    for (const requestId of report.missing) {
      const request = active.find((r) => r.id === requestId);
      if (!request || handled.has(requestId)) continue;
      if ((request.expiresAt ?? 0) <= clock.now()) {
        // Ended and its role is gone already: just finish the request.
        await revoke(request, 'ended by reconcile (role already gone)');
        continue;
      }
      handled.add(requestId);
      summary.missing.push(requestId);
      const marker = `${deps.redisPrefix}:reconcile:missing-alerted:${requestId}`;
      if ((await deps.redis.set(marker, '1', 'EX', 86_400, 'NX')) === 'OK') {
        await requests.reportMissingRole(request).catch(async (error: unknown) => {
          await deps.redis.del(marker);
          logger.warn({ err: error, requestId }, 'missing-role alert failed; next run retries');
        });
      }
    }
  };
  await forEachBounded(accounts, deps.accountConcurrency ?? 1, async (accountId) => {
    try {
      await reconcileAccount(accountId);
    } catch (error) {
      summary.failed.push(accountId);
      logger.warn({ err: error, accountId }, 'reconcile of an account failed; next run retries');
    }
  });

  // 3. revoke-failed requests reconcile did not meet above (their role is already gone).
  for (const request of revokeFailed) {
    if (!handled.has(request.id)) await revoke(request, 'revocation retried by reconcile');
  }
  // 4. The SCPs of accounts asked about lately: effective-access summaries follow SCP changes.
  if (deps.refreshScps) {
    await deps.refreshScps().catch((error: unknown) => {
      logger.warn({ err: error }, 'refreshing the cached SCPs failed; next run retries');
    });
  }
  if (
    summary.revoked.length ||
    summary.removedOrphans.length ||
    summary.removedForeign.length ||
    summary.tagMismatches.length ||
    summary.missing.length ||
    summary.failed.length
  ) {
    logger.info({ reconcile: summary }, 'reconcile acted');
  }
  return summary;
}

/** Creates or updates the reconcile Job Scheduler; safe to call at every start. */
export async function scheduleReconcile(queue: Queue, config: AppConfig): Promise<void> {
  await queue.upsertJobScheduler(
    RECONCILE_SCHEDULER,
    { pattern: config.schedules.reconcile, tz: config.schedules.timezone },
    // The next run comes soon anyway: retry a failed run a few times, keep little history.
    {
      name: RECONCILE_JOB,
      opts: { attempts: 3, removeOnComplete: { count: 100 }, removeOnFail: { count: 500 } },
    },
  );
}

export async function startReconcileWorker(options: {
  connection: Redis;
  config: AppConfig;
  deps: ReconcileDeps;
  schedule?: boolean;
  workerOptions?: Partial<WorkerOptions>;
}): Promise<Closable & { queue: Queue; worker: Worker }> {
  const prefix = options.config.redis.prefix;
  const queue = new Queue(QueueName.reconcile, queueOptions(options.connection, prefix));
  if (options.schedule ?? true) await scheduleReconcile(queue, options.config);
  const worker = new Worker(
    QueueName.reconcile,
    async (job) => (job.name === RECONCILE_JOB ? runReconcile(options.deps) : undefined),
    workerOptions(options.connection, prefix, { concurrency: 1, ...options.workerOptions }),
  );
  watchFailures(worker, QueueName.reconcile, options.deps.metrics, options.deps.logger);
  return {
    queue,
    worker,
    close: async () => {
      await worker.close();
      await queue.close();
    },
  };
}
