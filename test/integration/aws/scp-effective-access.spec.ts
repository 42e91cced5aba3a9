/**
 * The SCP reader and the effective-access adapter against moto over the real SDK: the management
 * account is exempt, SCPs not enabled apply nothing, a static account without a root path is
 * walked up with ListParents, Organizations unreachable answers `unavailable` (never a guess),
 * and a slow first read fills the cache for the next request.
 */
import {
  AttachPolicyCommand,
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  CreatePolicyCommand,
  EnablePolicyTypeCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { Redis } from 'ioredis';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ScpEffectiveAccess } from '../../../src/aws/scp-effective-access.js';
import { readScpPath, type ScpPath } from '../../../src/aws/scp-reader.js';
import type { Account } from '../../../src/domain/ports.js';
import { EffectiveAccessCache } from '../../../src/store/effective-access-cache.js';
import { loadTemplates, type BoundaryTemplateCatalog } from '../../../src/templates/load-templates.js';
import { awsEndpointUrl, redisUrl, resetMoto, uniquePrefix } from '../../support/services.js';
import { recordCalls, TestClock } from './aws-test-kit.js';

const MANAGEMENT = '123456789012';
const org = (endpoint = awsEndpointUrl()) =>
  new OrganizationsClient({
    region: 'us-east-1',
    endpoint,
    maxAttempts: 1,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });

async function organization(enableScps = true) {
  const client = org();
  await client.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
  const rootId = (await client.send(new ListRootsCommand({}))).Roots![0]!.Id!;
  if (enableScps) {
    await client.send(new EnablePolicyTypeCommand({ RootId: rootId, PolicyType: 'SERVICE_CONTROL_POLICY' }));
  }
  const outer = (
    await client.send(new CreateOrganizationalUnitCommand({ ParentId: rootId, Name: 'Workloads' }))
  ).OrganizationalUnit!.Id!;
  const inner = (await client.send(new CreateOrganizationalUnitCommand({ ParentId: outer, Name: 'Apps' })))
    .OrganizationalUnit!.Id!;
  const id = (await client.send(new CreateAccountCommand({ AccountName: 'webapp', Email: 'w@example.com' })))
    .CreateAccountStatus!.AccountId!;
  await client.send(
    new MoveAccountCommand({ AccountId: id, SourceParentId: rootId, DestinationParentId: inner }),
  );
  if (enableScps) {
    const policy = await client.send(
      new CreatePolicyCommand({
        // Policy names come from whoever runs the organization: `<` and `>` are made inert when read.
        Name: 'deny-s3-writes <!here>',
        Description: 'no s3 writes',
        Type: 'SERVICE_CONTROL_POLICY',
        Content: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Deny', Action: ['s3:Put*', 's3:Delete*'], Resource: '*' }],
        }),
      }),
    );
    await client.send(
      new AttachPolicyCommand({ PolicyId: policy.Policy!.PolicySummary!.Id!, TargetId: outer }),
    );
  }
  return { client, rootId, outer, inner, id };
}

let templates: BoundaryTemplateCatalog;
beforeAll(async () => {
  templates = await loadTemplates('templates');
});

describe('SCPs read from Organizations (moto)', () => {
  let redis: Redis;
  let prefix: string;
  beforeEach(async () => {
    await resetMoto();
    redis = new Redis(redisUrl());
    prefix = uniquePrefix('scp');
  });
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  const reader = (client: OrganizationsClient, timeoutMs?: number) =>
    new ScpEffectiveAccess({
      organizations: client,
      cache: new EffectiveAccessCache<ScpPath>(redis, prefix, 600),
      templates,
      clock: new TestClock(Date.now()),
      ...(timeoutMs ? { timeoutMs } : {}),
    });

  it('a static account without a root path is walked up with ListParents, root first', async () => {
    const tree = await organization();
    const calls = recordCalls(tree.client);
    const account: Account = { id: tree.id, name: 'webapp', aliases: [], ouPath: [] };
    const path = await readScpPath(tree.client, account);
    expect(path.levels.map((l) => l.targetId)).toEqual([tree.rootId, tree.outer, tree.inner, tree.id]);
    expect(calls.filter((c) => c.command === 'ListParents')).toHaveLength(3);
    expect(path.levels[1]!.policies.map((p) => p.name).sort()).toEqual([
      'FullAWSAccess',
      'deny-s3-writes ‹!here›',
    ]);
    // FullAWSAccess on four levels, described once.
    expect(calls.filter((c) => c.command === 'DescribePolicy')).toHaveLength(2);
  });

  it('the management account is not subject to SCPs', async () => {
    await organization();
    const effective = await reader(org()).forAccount(
      { id: MANAGEMENT, name: 'management', aliases: [], ouPath: [] },
      'developer',
    );
    expect(effective.exempt).toBe('management-account');
    expect(effective.allowed).toBe(effective.asked);
  });

  it('SCPs not enabled on the root apply nothing', async () => {
    const tree = await organization(false);
    const effective = await reader(org()).forAccount(
      { id: tree.id, name: 'webapp', aliases: [], ouPath: [] },
      'developer',
    );
    expect(effective.exempt).toBe('scps-disabled');
  });

  it('Organizations unreachable with nothing cached answers unavailable, never a summary', async () => {
    const effective = await reader(org('http://127.0.0.1:9')).forAccount(
      { id: '111122223333', name: 'webapp', aliases: [], ouPath: [] },
      'developer',
    );
    expect(effective).toEqual({ asked: expect.any(Number), unavailable: true });
    expect(await redis.keys(`${prefix}:aws:scp:path:*`)).toEqual([]);
  });

  it('an answer slower than the bound is unavailable now, and the read fills the cache for the next request', async () => {
    const tree = await organization();
    const account: Account = { id: tree.id, name: 'webapp', aliases: [], ouPath: [] };
    const hurried = await reader(org(), 1).forAccount(account, 'developer');
    expect(hurried.unavailable).toBe(true);
    await expect
      .poll(async () => redis.exists(`${prefix}:aws:scp:path:${tree.id}`), { timeout: 10_000 })
      .toBe(1);
    const client = org();
    const calls = recordCalls(client);
    const effective = await reader(client).forAccount(account, 'developer');
    expect(effective.deniedBy?.scpName).toBe('deny-s3-writes ‹!here›');
    expect(calls).toEqual([]);
  });
});
