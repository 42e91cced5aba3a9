/**
 * What the grant will really allow: the SCPs on the account's path read from Organizations (moto,
 * over the real SDK), evaluated with the template, shown to approvers and the requester, cached
 * per account and refreshed by reconcile; a template the SCPs leave nothing of is refused. A
 * multi-account request shows each account's own reduction, and is refused whole when the SCPs
 * leave nothing in one of its accounts.
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
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAwsServices, type AwsServices } from '../../src/aws/create-aws-services.js';
import { systemClock } from '../../src/clock.js';
import type { AccessRequest } from '../../src/domain/access-request.js';
import { runReconcile } from '../../src/jobs/reconcile.js';
import { createLogger } from '../../src/logger.js';
import { recordCalls } from '../integration/aws/aws-test-kit.js';
import { startTestApp, testEnv, type TestApp } from '../support/app-harness.js';
import { startFakeSlack } from '../support/fake-slack.js';
import { awsEndpointUrl, redisUrl, resetMoto, testConfig } from '../support/services.js';
import { approverMessage, command, REQUESTER, seedPeople, waitUntil } from '../support/slack-flow.js';

const org = () => new OrganizationsClient({ region: 'us-east-1', endpoint: awsEndpointUrl() });
const SCP_CALLS = [
  'DescribeOrganization',
  'ListRoots',
  'ListParents',
  'ListPoliciesForTarget',
  'DescribePolicy',
];

const scp = (statement: object) => JSON.stringify({ Version: '2012-10-17', Statement: [statement] });

/** root → Workloads (deny-prod-writes) → Apps → webapp; root → Sandbox (deny-all-sandbox) → locked. */
async function buildOrganization() {
  const client = org();
  await client.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
  const rootId = (await client.send(new ListRootsCommand({}))).Roots![0]!.Id!;
  await client.send(new EnablePolicyTypeCommand({ RootId: rootId, PolicyType: 'SERVICE_CONTROL_POLICY' }));
  const ou = async (parent: string, name: string) =>
    (await client.send(new CreateOrganizationalUnitCommand({ ParentId: parent, Name: name })))
      .OrganizationalUnit!.Id!;
  const account = async (name: string, parent: string) => {
    const created = await client.send(
      new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }),
    );
    const id = created.CreateAccountStatus!.AccountId!;
    if (parent === rootId) return id;
    await client.send(
      new MoveAccountCommand({ AccountId: id, SourceParentId: rootId, DestinationParentId: parent }),
    );
    return id;
  };
  const policy = async (name: string, statement: object, target: string) => {
    const created = await client.send(
      new CreatePolicyCommand({
        Name: name,
        Description: name,
        Type: 'SERVICE_CONTROL_POLICY',
        Content: scp(statement),
      }),
    );
    const id = created.Policy!.PolicySummary!.Id!;
    await client.send(new AttachPolicyCommand({ PolicyId: id, TargetId: target }));
    return id;
  };
  const workloads = await ou(rootId, 'Workloads');
  const apps = await ou(workloads, 'Apps');
  const sandbox = await ou(rootId, 'Sandbox');
  const webapp = await account('webapp', apps);
  const locked = await account('locked', sandbox);
  await account('tools', rootId);
  await policy(
    'deny-prod-writes',
    {
      Effect: 'Deny',
      Action: ['s3:Put*', 's3:Delete*', 'ec2:RunInstances', 'ec2:TerminateInstances'],
      Resource: '*',
    },
    workloads,
  );
  await policy('deny-all-sandbox', { Effect: 'Deny', Action: '*', Resource: '*' }, sandbox);
  return { client, webapp, locked, policy };
}

describe('effective access under SCPs (moto)', () => {
  let app: TestApp | undefined;
  let redis: Redis;
  beforeEach(async () => {
    await resetMoto();
    redis = new Redis(redisUrl());
  });
  afterEach(async () => {
    await app?.stop();
    app = undefined;
    await redis.quit();
  });

  async function start() {
    const tree = await buildOrganization();
    const fake = await startFakeSlack();
    const loaded = testConfig((c) => {
      c.aws.organizations = { enabled: true, cacheTtl: 600, pageSize: 20 };
      c.aws.accounts = [];
    });
    const aws: AwsServices = await createAwsServices({
      clock: systemClock,
      env: testEnv(fake),
      loaded,
      redis,
      logger: createLogger({ level: 'silent' }),
      sleep: async () => undefined,
    });
    const organizations = (aws.accounts as unknown as { options: { organizations: OrganizationsClient } })
      .options.organizations;
    const calls = recordCalls(organizations);
    app = await startTestApp({
      fake,
      loaded,
      adapters: { templates: aws.templates, accounts: aws.accounts, effectiveAccess: aws.effectiveAccess },
    });
    seedPeople(fake);
    return { tree, aws, calls, app, fake };
  }

  const scpCalls = (calls: Array<{ command: string }>) => calls.filter((c) => SCP_CALLS.includes(c.command));

  it('shows approvers and the requester the reduced summary, names the SCP, caches it, and reconcile refreshes it', async () => {
    const { tree, aws, calls, app: running, fake } = await start();

    await command(running, 'webapp developer 2h deploying the fix');
    const msg = await approverMessage(fake);
    const blocks = JSON.stringify(msg.call.args.blocks);
    expect(blocks).toContain('After SCPs, in this account');
    expect(blocks).toContain('SCP deny-prod-writes (OU Workloads) removes');
    expect(blocks).toMatch(/• s3: Write \d+ → \d+/);
    const stored = (await running.service.requests.get(msg.requestId)) as AccessRequest;
    const effective = stored.effectiveAccess!;
    expect(effective.allowed).toBeGreaterThan(0);
    expect(effective.allowed).toBeLessThan(effective.asked);
    expect(effective.deniedBy).toMatchObject({
      scpName: 'deny-prod-writes',
      kind: 'deny',
      level: 'OU Workloads',
    });
    expect(effective.deniedBy!.services).toEqual(expect.arrayContaining(['s3', 'ec2']));
    // The requester's confirmation and DM say what the SCPs leave and name the SCP.
    const confirmation = await waitUntil(
      () => fake.callsTo('response_url').find((c) => String(c.args.text).includes(msg.requestId)),
      'the confirmation',
    );
    expect(String(confirmation.args.text)).toContain('deny-prod-writes');
    const dm = await waitUntil(
      () =>
        fake
          .callsTo('chat.postMessage')
          .find((c) => c.args.channel === REQUESTER && String(c.args.text).includes('is waiting for')),
      'the waiting DM',
    );
    expect(String(dm.args.text)).toMatch(/SCPs leave \d+ of the template’s \d+ actions/);
    // Read from Organizations once: root, two OUs and the account, each policy described once.
    const first = scpCalls(calls);
    expect(first.filter((c) => c.command === 'ListPoliciesForTarget')).toHaveLength(4);
    expect(first.filter((c) => c.command === 'DescribePolicy')).toHaveLength(2);

    // The second request reads nothing from Organizations: the cache answers.
    calls.length = 0;
    await command(running, 'webapp developer 1h second look');
    const second = await approverMessage(fake, 1);
    expect(JSON.stringify(second.call.args.blocks)).toContain('deny-prod-writes');
    expect(scpCalls(calls)).toEqual([]);

    // An SCP attached to the account now: seen after reconcile's refresh, not before.
    await tree.policy('deny-ec2', { Effect: 'Deny', Action: 'ec2:*', Resource: '*' }, tree.webapp);
    await runReconcile({
      requests: running.service.requests,
      grants: running.grants,
      accounts: aws.accounts,
      refreshScps: () => aws.effectiveAccess!.refresh(),
      redis,
      redisPrefix: running.loaded.config.redis.prefix,
      clock: systemClock,
      logger: createLogger({ level: 'silent' }),
    });
    expect(scpCalls(calls).filter((c) => c.command === 'ListPoliciesForTarget')).toHaveLength(4);
    await command(running, 'webapp developer 1h third look');
    const third = await approverMessage(fake, 2);
    const after = (await running.service.requests.get(third.requestId))!.effectiveAccess!;
    expect(after.allowed).toBeLessThan(effective.allowed!);
    expect(after.deniedBy?.scpName).toBe('deny-ec2');
  });

  it('a template the SCPs leave nothing of is refused with a clear reply, audited, and never reaches approvers', async () => {
    const { app: running, fake } = await start();
    await command(running, 'locked readonly 1h checking the logs');
    const reply = await waitUntil(
      () => fake.callsTo('response_url').find((c) => String(c.args.text).includes('not created')),
      'the refusal',
    );
    expect(String(reply.args.text)).toContain(
      'SCP deny-all-sandbox (OU Sandbox) leaves nothing of template readonly in account locked; ask for another template',
    );
    const posts = fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0APPROVALS');
    expect(posts).toEqual([]);
    const refused = (await running.service.audit.read('-', 1000))
      .map((e) => e.event)
      .filter((e) => e.action === 'request' && e.outcome === 'refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]!.reason).toContain('deny-all-sandbox');
  });

  it("a request for several accounts shows each account's own SCP reduction in its one approvers' message", async () => {
    const { app: running, fake } = await start();
    await command(running, 'webapp,tools developer 2h deploying the fix');
    const post = await waitUntil(
      () =>
        fake
          .callsTo('chat.postMessage')
          .find((c) => c.args.channel === 'C0APPROVALS' && JSON.stringify(c.args.blocks).includes('tools')),
      "the group's approvers' message",
    );
    const blocks = JSON.stringify(post.args.blocks);
    expect(blocks).toContain('webapp');
    // webapp sits under deny-prod-writes; tools, under the root only, keeps the whole template.
    expect(blocks).toMatch(
      /webapp[^\n]*\\n\s*↳ SCPs leave \d+ of the template’s \d+ actions in this account; SCP deny-prod-writes/,
    );
    expect(blocks).not.toMatch(/tools[^\n]*\\n\s*↳/);
    expect(fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0APPROVALS')).toHaveLength(1);
    // The requester's confirmation and waiting DM say it too, for the account the SCPs reduce.
    const reduced =
      /webapp: SCPs leave \d+ of the template’s \d+ actions in this account; SCP deny-prod-writes/;
    const confirmation = await waitUntil(
      () => fake.callsTo('response_url').find((c) => String(c.args.text).includes('sent to the approvers')),
      'the confirmation',
    );
    expect(String(confirmation.args.text)).toMatch(reduced);
    expect(String(confirmation.args.text)).not.toMatch(/tools: SCPs/);
    const dm = await waitUntil(
      () =>
        fake
          .callsTo('chat.postMessage')
          .find((c) => c.args.channel === REQUESTER && String(c.args.text).includes('is waiting for')),
      'the waiting DM',
    );
    expect(String(dm.args.text)).toMatch(reduced);
  });

  it('a request for several accounts is refused whole when the SCPs leave nothing in one of them', async () => {
    const { app: running, fake } = await start();
    await command(running, 'webapp,locked readonly 1h checking the logs');
    const reply = await waitUntil(
      () => fake.callsTo('response_url').find((c) => String(c.args.text).includes('not created')),
      'the refusal',
    );
    expect(String(reply.args.text)).toContain('deny-all-sandbox');
    expect(String(reply.args.text)).toContain('locked');
    expect(fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0APPROVALS')).toEqual([]);
    expect(await running.service.requests.listInState('pending')).toEqual([]);
  });
});
