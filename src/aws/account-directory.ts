/**
 * Accounts people can ask for: discovered from AWS Organizations (names and the OU path from
 * the root down) and cached in Redis for `organizations.cacheTtl`, merged with the static list
 * in config, whose names and aliases win. With Organizations disabled only the static list is
 * used.
 *
 * Discovery walks the tree instead of calling ListParents per account: ListRoots, then for each
 * parent ListOrganizationalUnitsForParent and ListAccountsForParent, and ListAccounts for names
 * and status; every list pages until NextToken is empty. That costs about two calls per OU
 * rather than depth calls per account. TooManyRequestsException is retried by the SDK's
 * standard retry strategy (see aws-clients.ts).
 */
import { organizationsName } from './organizations-names.js';
import {
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  ListRootsCommand,
  type OrganizationsClient,
} from '@aws-sdk/client-organizations';
import type { Redis } from 'ioredis';
import type { AccountConfig } from '../config/schema.js';
import type { Account, AccountDirectory } from '../domain/ports.js';
import type { Logger } from '../logger.js';
import { allPages } from './aws-clients.js';
import { toAwsError } from './aws-errors.js';

type OuRef = { id: string; name: string };

export interface AccountDirectoryOptions {
  /** Undefined when Organizations discovery is off. */
  organizations?: OrganizationsClient;
  redis: Redis;
  /** Redis key of the cached tree, e.g. `aab:aws:accounts`. */
  cacheKey: string;
  cacheTtlSeconds: number;
  pageSize: number;
  staticAccounts: AccountConfig[];
  logger?: Logger;
  /**
   * An account to leave out (the bot's own, unless `aws.allowGrantsInBotAccount`), so a request
   * for it is refused when it is made. The grant engine refuses it again at grant time.
   */
  hiddenAccountId?: () => Promise<string | undefined>;
}

/** Reads the whole organization: every active account with its OU path. */
export async function discoverOrganization(
  client: OrganizationsClient,
  pageSize: number,
): Promise<Account[]> {
  try {
    const accounts = await allPages(async (NextToken) => {
      const r = await client.send(new ListAccountsCommand({ MaxResults: pageSize, NextToken }));
      return { items: r.Accounts ?? [], next: r.NextToken };
    });
    const roots = await allPages(async (NextToken) => {
      const r = await client.send(new ListRootsCommand({ MaxResults: pageSize, NextToken }));
      return { items: r.Roots ?? [], next: r.NextToken };
    });
    const pathOf = new Map<string, OuRef[]>();
    const queue: Array<{ id: string; path: OuRef[] }> = roots.map((r) => ({
      id: r.Id!,
      path: [{ id: r.Id!, name: organizationsName(r.Name ?? 'Root') }],
    }));
    while (queue.length) {
      const parent = queue.shift()!;
      const ous = await allPages(async (NextToken) => {
        const r = await client.send(
          new ListOrganizationalUnitsForParentCommand({
            ParentId: parent.id,
            MaxResults: pageSize,
            NextToken,
          }),
        );
        return { items: r.OrganizationalUnits ?? [], next: r.NextToken };
      });
      for (const ou of ous)
        queue.push({
          id: ou.Id!,
          path: [...parent.path, { id: ou.Id!, name: organizationsName(ou.Name ?? ou.Id!) }],
        });
      const children = await allPages(async (NextToken) => {
        const r = await client.send(
          new ListAccountsForParentCommand({ ParentId: parent.id, MaxResults: pageSize, NextToken }),
        );
        return { items: r.Accounts ?? [], next: r.NextToken };
      });
      for (const child of children) pathOf.set(child.Id!, parent.path);
    }
    return accounts
      .filter((a) => a.Id && (a.Status === undefined || a.Status === 'ACTIVE'))
      .map((a) => ({
        id: a.Id!,
        name: organizationsName(a.Name ?? a.Id!),
        aliases: [],
        ouPath: pathOf.get(a.Id!) ?? [],
      }));
  } catch (error) {
    throw toAwsError(error, 'reading accounts from AWS Organizations');
  }
}

/** Config entries add aliases and may rename; accounts only in config are added as they are. */
export function mergeAccounts(discovered: Account[], staticAccounts: AccountConfig[]): Account[] {
  const byId = new Map(discovered.map((a) => [a.id, { ...a, aliases: [...a.aliases] }]));
  for (const s of staticAccounts) {
    const found = byId.get(s.id);
    if (found) {
      if (s.name) found.name = s.name;
      found.aliases = [...new Set([...found.aliases, ...s.aliases])];
    } else {
      byId.set(s.id, {
        id: s.id,
        name: s.name ?? s.id,
        aliases: [...s.aliases],
        ouPath: s.ouPath.map((id) => ({ id, name: id })),
      });
    }
  }
  return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export class OrganizationsAccountDirectory implements AccountDirectory {
  private inflight?: Promise<Account[]>;

  constructor(private readonly options: AccountDirectoryOptions) {}

  async listAccounts(): Promise<Account[]> {
    const accounts = await this.allAccounts();
    if (!this.options.hiddenAccountId) return accounts;
    let hidden: string | undefined;
    try {
      hidden = await this.options.hiddenAccountId();
    } catch (error) {
      // The grant engine still refuses the bot's account; the requester learns it later.
      this.options.logger?.warn({ err: error }, "could not read the bot's own account; not hiding it");
    }
    return hidden ? accounts.filter((a) => a.id !== hidden) : accounts;
  }

  private async allAccounts(): Promise<Account[]> {
    const { organizations, redis, cacheKey } = this.options;
    if (!organizations) return mergeAccounts([], this.options.staticAccounts);
    const cached = await redis.get(cacheKey);
    if (cached) return mergeAccounts(JSON.parse(cached) as Account[], this.options.staticAccounts);
    // One discovery per process at a time; other replicas may race, which only costs calls.
    this.inflight ??= (async () => {
      try {
        const discovered = await discoverOrganization(organizations, this.options.pageSize);
        await redis.set(cacheKey, JSON.stringify(discovered), 'EX', this.options.cacheTtlSeconds);
        this.options.logger?.info(
          { accounts: discovered.length },
          'accounts discovered from AWS Organizations',
        );
        return discovered;
      } finally {
        this.inflight = undefined;
      }
    })();
    return mergeAccounts(await this.inflight, this.options.staticAccounts);
  }

  async findAccount(query: string): Promise<Account | undefined> {
    const q = query.trim().toLowerCase();
    if (!q) return undefined;
    const accounts = await this.listAccounts();
    return (
      accounts.find((a) => a.id === q) ??
      accounts.find((a) => a.aliases.some((alias) => alias.toLowerCase() === q)) ??
      accounts.find((a) => a.name.toLowerCase() === q)
    );
  }

  /** Drops the cached tree so the next call rediscovers (e.g. after an account moved). */
  async invalidate(): Promise<void> {
    await this.options.redis.del(this.options.cacheKey);
  }
}

/** True when the account sits in `ouId` or any OU nested below it. */
export function accountInOu(account: Account, ouId: string): boolean {
  return account.ouPath.some((ou) => ou.id === ouId);
}
