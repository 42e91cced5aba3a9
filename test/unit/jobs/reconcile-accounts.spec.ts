/**
 * Reconcile across many accounts (`aws.concurrency.accounts`), with small doubles of its ports:
 * accounts run side by side up to the bound, and one account failing leaves the others done.
 */
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { AccountDirectory, GrantEngine, ReconcileReport } from '../../../src/domain/ports.js';
import type { RequestService } from '../../../src/domain/request-service.js';
import { runReconcile } from '../../../src/jobs/reconcile.js';
import { createLogger } from '../../../src/logger.js';

const ids = Array.from({ length: 12 }, (_, n) => String(100_000_000_000 + n));

function fleet(options: { failListing?: string; failRequestRead?: string }) {
  let inFlight = 0;
  const seen = { maxInFlight: 0, removed: [] as string[] };
  const grants = {
    reconcile: async (accountId: string): Promise<ReconcileReport> => {
      inFlight++;
      seen.maxInFlight = Math.max(seen.maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 15));
      inFlight--;
      if (accountId === options.failListing) throw new Error('Throttling: Rate exceeded');
      return {
        orphaned: [{ accountId, roleName: `aws-access-r-${accountId}`, requestId: `r-${accountId}` }],
        overdue: [],
        missing: [],
      };
    },
  } as unknown as GrantEngine;
  const requests = {
    listInState: async () => [],
    get: async (id: string) => {
      if (id === `r-${options.failRequestRead}`) throw new Error('redis connection lost');
      return undefined;
    },
    removeOrphanedRole: async (_accountId: string, requestId: string) => {
      seen.removed.push(requestId);
      return true;
    },
  } as unknown as RequestService;
  const accounts: AccountDirectory = {
    listAccounts: async () => ids.map((id) => ({ id, name: id, aliases: [], ouPath: [] })),
    findAccount: async () => undefined,
  };
  const deps = {
    requests,
    grants,
    accounts,
    redis: {} as Redis,
    redisPrefix: 't',
    clock: { now: () => 0 },
    logger: createLogger({ level: 'silent' }),
  };
  return { deps, seen };
}

describe('reconcile across accounts', () => {
  it('works on at most `accountConcurrency` accounts at once, and on all of them', async () => {
    const { deps, seen } = fleet({});
    const summary = await runReconcile({ ...deps, accountConcurrency: 4 });
    expect(seen.maxInFlight).toBe(4);
    expect(summary.accounts).toBe(12);
    expect(summary.removedOrphans.sort()).toEqual(ids.map((id) => `r-${id}`).sort());
  });

  it('one account at a time when no bound is given', async () => {
    const { deps, seen } = fleet({});
    await runReconcile(deps);
    expect(seen.maxInFlight).toBe(1);
  });

  it('an account that cannot be listed or whose requests cannot be read does not stop the others', async () => {
    const { deps, seen } = fleet({ failListing: ids[2], failRequestRead: ids[7] });
    const summary = await runReconcile({ ...deps, accountConcurrency: 3 });
    expect(summary.failed.sort()).toEqual([ids[2], ids[7]].sort());
    expect(seen.removed.sort()).toEqual(
      ids
        .filter((id) => id !== ids[2] && id !== ids[7])
        .map((id) => `r-${id}`)
        .sort(),
    );
  });

  it('refreshes the cached SCPs on every run, and a failed refresh fails nothing else', async () => {
    const { deps, seen } = fleet({});
    let refreshes = 0;
    await runReconcile({ ...deps, refreshScps: async () => void (refreshes += 1) });
    expect(refreshes).toBe(1);
    const summary = await runReconcile({
      ...deps,
      refreshScps: async () => {
        throw new Error('AWSOrganizationsNotInUseException');
      },
    });
    expect(summary.failed).toEqual([]);
    expect(seen.removed).toHaveLength(ids.length * 2);
  });
});
