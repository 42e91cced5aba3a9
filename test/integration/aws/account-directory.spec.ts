import {
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { accountInOu } from '../../../src/aws/account-directory.js';
import { awsEndpointUrl, resetMoto } from '../../support/services.js';
import { makeKit, recordCalls, type Kit } from './aws-test-kit.js';

const org = () => new OrganizationsClient({ region: 'us-east-1', endpoint: awsEndpointUrl() });

/** root → platform → shared → data: 32 accounts spread over the four levels. */
async function buildOrganization() {
  const client = org();
  await client.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
  const rootId = (await client.send(new ListRootsCommand({}))).Roots![0]!.Id!;
  const ou = async (parent: string, name: string) =>
    (await client.send(new CreateOrganizationalUnitCommand({ ParentId: parent, Name: name })))
      .OrganizationalUnit!.Id!;
  const platform = await ou(rootId, 'platform');
  const shared = await ou(platform, 'shared');
  const data = await ou(shared, 'data');
  const sandbox = await ou(rootId, 'sandbox');
  const parents = [rootId, platform, shared, data, sandbox];
  const accounts: Array<{ id: string; name: string; parent: string }> = [];
  for (let i = 0; i < 32; i++) {
    const name = `acct-${String(i).padStart(2, '0')}`;
    const created = await client.send(
      new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }),
    );
    const id = created.CreateAccountStatus!.AccountId!;
    const parent = parents[i % parents.length]!;
    if (parent !== rootId) {
      await client.send(
        new MoveAccountCommand({ AccountId: id, SourceParentId: rootId, DestinationParentId: parent }),
      );
    }
    accounts.push({ id, name, parent });
  }
  return { rootId, platform, shared, data, sandbox, accounts };
}

describe('OrganizationsAccountDirectory against moto', () => {
  let kit: Kit;
  beforeEach(resetMoto);
  afterEach(async () => kit?.close());

  it('pages through more than one page of accounts and OUs and gives every account its OU path', async () => {
    const tree = await buildOrganization();
    kit = await makeKit((c) => {
      c.aws.organizations = { enabled: true, cacheTtl: 600, pageSize: 5 };
      c.aws.accounts = [{ id: tree.accounts[1]!.id, name: 'data-lake', aliases: ['lake'], ouPath: [] }];
    });
    const client = (kit.services.accounts as unknown as { options: { organizations: OrganizationsClient } })
      .options.organizations;
    const calls = recordCalls(client);

    const accounts = await kit.services.accounts.listAccounts();
    // The 32 created; the management account moto creates with the organization is the bot's
    // own (moto answers GetCallerIdentity with it) and is left out (aws.allowGrantsInBotAccount).
    expect(accounts).toHaveLength(32);
    expect(accounts.map((a) => a.id)).not.toContain('123456789012');
    const listAccountPages = calls.filter((c) => c.command === 'ListAccounts');
    expect(listAccountPages.length).toBeGreaterThanOrEqual(7);
    expect(listAccountPages.slice(1).every((c) => (c.input as { NextToken?: string }).NextToken)).toBe(true);
    expect(listAccountPages.every((c) => (c.input as { MaxResults?: number }).MaxResults === 5)).toBe(true);
    const rootAccountPages = calls.filter(
      (c) =>
        c.command === 'ListAccountsForParent' && (c.input as { ParentId: string }).ParentId === tree.rootId,
    );
    expect(rootAccountPages.length).toBeGreaterThan(1);

    // An account two OU levels below "platform" (platform → shared → data).
    const deep = tree.accounts.find((a) => a.parent === tree.data)!;
    const found = accounts.find((a) => a.id === deep.id)!;
    expect(found.name).toBe(deep.name);
    expect(found.ouPath.map((o) => o.name)).toEqual(['Root', 'platform', 'shared', 'data']);
    expect(found.ouPath.map((o) => o.id)).toEqual([tree.rootId, tree.platform, tree.shared, tree.data]);
    expect(accountInOu(found, tree.platform)).toBe(true);
    expect(accountInOu(found, tree.sandbox)).toBe(false);
    const inSandbox = accounts.find(
      (a) => a.id === tree.accounts.find((x) => x.parent === tree.sandbox)!.id,
    )!;
    expect(accountInOu(inSandbox, tree.platform)).toBe(false);
    // Every account is matched by exactly the OUs above it.
    for (const a of tree.accounts) {
      const account = accounts.find((x) => x.id === a.id)!;
      expect(account.ouPath[account.ouPath.length - 1]!.id).toBe(a.parent);
    }

    // Config renames and aliases; lookups are case-insensitive by id, alias or name.
    expect((await kit.services.accounts.findAccount('LAKE'))?.id).toBe(tree.accounts[1]!.id);
    expect((await kit.services.accounts.findAccount('Data-Lake'))?.id).toBe(tree.accounts[1]!.id);
    expect((await kit.services.accounts.findAccount(deep.id))?.name).toBe(deep.name);
    expect((await kit.services.accounts.findAccount('ACCT-07'))?.id).toBe(tree.accounts[7]!.id);
    expect(await kit.services.accounts.findAccount('nope')).toBeUndefined();
  });

  it('turns < and > in names from Organizations into look-alikes, so no account or OU name reads as a Slack mention or link', async () => {
    const client = org();
    await client.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    const rootId = (await client.send(new ListRootsCommand({}))).Roots![0]!.Id!;
    const ouId = (
      await client.send(
        new CreateOrganizationalUnitCommand({ ParentId: rootId, Name: '<https://evil.example|Payroll>' }),
      )
    ).OrganizationalUnit!.Id!;
    const id = (
      await client.send(
        new CreateAccountCommand({ AccountName: 'ops <@U0CFO> <!channel>', Email: 'ops@example.com' }),
      )
    ).CreateAccountStatus!.AccountId!;
    await client.send(
      new MoveAccountCommand({ AccountId: id, SourceParentId: rootId, DestinationParentId: ouId }),
    );
    kit = await makeKit((c) => {
      c.aws.organizations = { enabled: true, cacheTtl: 600, pageSize: 20 };
      c.aws.accounts = [];
    });
    const account = (await kit.services.accounts.listAccounts()).find((a) => a.id === id)!;
    expect(account.name).toBe('ops ‹@U0CFO› ‹!channel›');
    expect(account.ouPath.map((o) => o.name)).toEqual(['Root', '‹https://evil.example|Payroll›']);
    expect(JSON.stringify(account)).not.toMatch(/[<>]/);
  });

  it('caches the tree in Redis with the configured TTL and serves later calls from it', async () => {
    await buildOrganization();
    kit = await makeKit((c) => {
      c.aws.organizations = { enabled: true, cacheTtl: 120, pageSize: 20 };
    });
    const client = (kit.services.accounts as unknown as { options: { organizations: OrganizationsClient } })
      .options.organizations;
    const calls = recordCalls(client);
    await kit.services.accounts.listAccounts();
    const afterFirst = calls.length;
    expect(afterFirst).toBeGreaterThan(0);
    const key = `${kit.prefix}:aws:accounts`;
    const ttl = await kit.redis.ttl(key);
    expect(ttl).toBeGreaterThan(100);
    expect(ttl).toBeLessThanOrEqual(120);
    // 33 discovered less the bot's own (the management account), plus the two static accounts of
    // the test config that are not in the organization.
    expect(await kit.services.accounts.listAccounts()).toHaveLength(34);
    expect(calls.length).toBe(afterFirst);
    await kit.services.accounts.invalidate();
    await kit.services.accounts.listAccounts();
    expect(calls.length).toBeGreaterThan(afterFirst);
  });

  it('uses only the static accounts when Organizations is off', async () => {
    kit = await makeKit();
    const accounts = await kit.services.accounts.listAccounts();
    expect(accounts.map((a) => [a.id, a.name, a.aliases])).toEqual([
      ['111111111111', 'production', ['prod']],
      ['222222222222', 'sandbox', ['sbx']],
    ]);
    expect((await kit.services.accounts.findAccount('SBX'))?.id).toBe('222222222222');
  });
});
