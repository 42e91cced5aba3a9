/**
 * Several accounts in one request (issue #17) on moto: one approvers' message for the group, the
 * strictest rule's approvals on every account before anything is granted, one role per account
 * each revoked on time by its own job, one DM listing every grant; and `ou:` resolving nested OUs
 * from Organizations.
 */
import {
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config/schema.js';
import {
  auditEvents,
  revokedEvents,
  roleExists,
  startLifecycleApp,
  TEMPLATE,
  type LifecycleApp,
} from '../support/grant-lifecycle.js';
import type { FakeSlack, RecordedCall } from '../support/fake-slack.js';
import { awsEndpointUrl, resetMoto } from '../support/services.js';
import { blockActionsBody, viewSubmissionBody } from '../support/slack-request.js';
import {
  APPROVER1,
  APPROVER2,
  command,
  dmsTo,
  REQUESTER,
  STRANGER,
  waitUntil,
} from '../support/slack-flow.js';

const SANDBOX = '222222222222';
const STAGING = '333333333333';
const DEV = '444444444444';

function hasButton(call: RecordedCall, actionId: string): boolean {
  return JSON.stringify(call.args.blocks ?? []).includes(`"action_id":"${actionId}"`);
}

/** The group's approvers' messages (the ones with the group Approve button). */
function groupMessages(fake: FakeSlack): RecordedCall[] {
  return fake.callsTo('chat.postMessage').filter((c) => hasButton(c, 'group_approve'));
}

async function groupMessage(fake: FakeSlack) {
  const call = await waitUntil(() => groupMessages(fake)[0], 'the group approvers message');
  const blocks = call.args.blocks as Array<{ elements?: Array<{ action_id?: string; value?: string }> }>;
  const button = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'group_approve');
  return { groupId: button!.value!, channel: String(call.args.channel), ts: String(call.response?.ts), call };
}

function clickGroup(
  app: LifecycleApp,
  userId: string,
  actionId: 'group_approve' | 'group_deny',
  message: { groupId: string; channel: string; ts: string },
) {
  return app.post(
    blockActionsBody({
      userId,
      actionId,
      value: message.groupId,
      blockId: 'group_decision',
      message: { channel: message.channel, ts: message.ts },
    }),
  );
}

function replies(app: LifecycleApp): string[] {
  return app.fake.callsTo('response_url').map((c) => String(c.args.text));
}

/** Three accounts; staging's rule needs two approvals, the default rule one. */
function threeAccounts(config: AppConfig): void {
  config.aws.accounts.push(
    { id: STAGING, name: 'staging', aliases: [], ouPath: [] },
    { id: DEV, name: 'dev', aliases: [], ouPath: [] },
  );
  const base = config.approval.rules.find((r) => r.name === 'default')!;
  config.approval.rules = [
    { ...base, name: 'staging-two', match: { ...base.match, accounts: [STAGING] }, approvalsRequired: 2 },
    base,
  ];
}

describe('several accounts in one request (moto)', () => {
  let app: LifecycleApp | undefined;
  beforeEach(async () => {
    await resetMoto();
  });
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('one approvers message, the stricter approvals on every account, three roles each revoked on time', async () => {
    app = await startLifecycleApp({ mutate: threeAccounts });
    const running = app;
    await command(app, `sandbox,staging,dev,sbx ${TEMPLATE} 8s INC-1 checking three accounts`);
    const message = await groupMessage(app.fake);
    const text = JSON.stringify(message.call.args.blocks);
    // Each account named with its rule and the approvals it needs (the strictest rule's 2).
    for (const [name, id] of [
      ['sandbox', SANDBOX],
      ['staging', STAGING],
      ['dev', DEV],
    ]) {
      expect(text).toContain(`*${name}* (\`${id}\`)`);
    }
    expect(text).toContain('rule staging-two · 0 of 2 approvals');
    expect(text).toContain('rule default · 0 of 2 approvals');
    await waitUntil(
      () => replies(running).find((t) => t.includes(`Request \`${message.groupId}\` for 3 accounts`)),
      'the intake answer',
    );

    const group = (await app.service.requests.groupStatus(message.groupId, REQUESTER)) as Extract<
      Awaited<ReturnType<typeof running.service.requests.groupStatus>>,
      { ok: true }
    >;
    expect(group.ok).toBe(true);
    const members = group.view.members;
    expect(members.map((m) => m.accountId)).toEqual([SANDBOX, STAGING, DEV]);
    expect(members.every((m) => m.groupId === message.groupId && m.approvalsRequired === 2)).toBe(true);
    const iams = await Promise.all(members.map((m) => running.aws.accountClients.iam(m.accountId)));

    // The requester cannot approve their own request.
    await clickGroup(app, REQUESTER, 'group_approve', message);
    // One approval: counted on every account, nothing granted.
    await clickGroup(app, APPROVER1, 'group_approve', message);
    await waitUntil(
      async () =>
        (await running.service.requests.get(members[0]!.id))?.approvals.length === 1 ? true : undefined,
      'the first approval counted',
    );
    await waitUntil(
      () =>
        running.fake
          .callsTo('chat.update')
          .find(
            (c) => c.args.ts === message.ts && JSON.stringify(c.args.blocks).includes('1 of 2 approvals'),
          ),
      'the message redrawn with 1 of 2',
    );
    for (const m of members) {
      const now = await running.service.requests.get(m.id);
      expect(now?.state).toBe('pending');
      expect(now?.approvals.map((a) => a.approverId)).toEqual([APPROVER1]);
    }
    for (const [i, m] of members.entries()) expect(await roleExists(iams[i]!, m.id)).toBe(false);

    // The second approval: all three granted, one role each.
    await clickGroup(app, APPROVER2, 'group_approve', message);
    const active = await waitUntil(async () => {
      const now = await Promise.all(members.map((m) => running.service.requests.get(m.id)));
      return now.every((r) => r?.state === 'active') ? now : undefined;
    }, 'all three active');
    for (const [i, m] of members.entries()) expect(await roleExists(iams[i]!, m.id)).toBe(true);

    // One DM listing all three grants, with a Revoke per account and one for all.
    const grantDms = dmsTo(app.fake, REQUESTER).filter((c) =>
      String(c.args.text).startsWith('Access granted'),
    );
    expect(grantDms).toHaveLength(1);
    const dm = JSON.stringify(grantDms[0]!.args.blocks);
    for (const m of members) expect(dm).toContain(`aws-access-${m.id}`);
    expect(dm).toContain('"action_id":"group_revoke"');
    expect(dm.match(/"action_id":"home_revoke"/g)).toHaveLength(3);
    // One "waiting" DM for the request, not one per account.
    expect(
      dmsTo(app.fake, REQUESTER).filter((c) => String(c.args.text).includes('is waiting for')),
    ).toHaveLength(1);
    // The self-approval was refused and counted nowhere.
    expect(app.fake.callsTo('chat.postEphemeral').some((c) => c.args.user === REQUESTER)).toBe(true);
    expect(active.every((r) => !r!.approvals.some((a) => a.approverId === REQUESTER))).toBe(true);
    // Only one approvers' message for the whole request.
    expect(groupMessages(app.fake)).toHaveLength(1);
    expect(app.fake.callsTo('chat.postMessage').filter((c) => hasButton(c, 'request_approve'))).toHaveLength(
      0,
    );

    // Each grant is revoked on time by its own revoke job, and its role removed.
    const revoked = await waitUntil(
      async () => {
        const now = await Promise.all(members.map((m) => running.service.requests.get(m.id)));
        return now.every((r) => r?.state === 'revoked') ? now : undefined;
      },
      'all three revoked',
      30_000,
    );
    for (const r of revoked) {
      expect(r!.revokedBy).toBe('system');
      expect(r!.revokedAt! - r!.expiresAt!).toBeGreaterThanOrEqual(0);
      expect(r!.revokedAt! - r!.expiresAt!).toBeLessThan(5_000);
    }
    for (const [i, m] of members.entries()) expect(await roleExists(iams[i]!, m.id)).toBe(false);
    // Each account has its own audit trail: request, two approvals, grant, one revoke.
    for (const m of members) {
      const events = await auditEvents(app, m.id);
      expect(events.filter((e) => e.action === 'approve' && e.outcome === 'ok')).toHaveLength(2);
      expect(events.filter((e) => e.action === 'grant' && e.outcome === 'ok')).toHaveLength(1);
      expect(revokedEvents(events)).toHaveLength(1);
    }
  }, 60_000);

  it('revoke takes the request id for every account, or one account id for that one', async () => {
    app = await startLifecycleApp({
      mutate: (config) => {
        threeAccounts(config);
        config.approval.rules = config.approval.rules.filter((r) => r.name === 'default');
      },
    });
    const running = app;
    await command(app, `sandbox,staging,dev ${TEMPLATE} 30m INC-2 three accounts`);
    const message = await groupMessage(app.fake);
    await clickGroup(app, APPROVER1, 'group_approve', message);
    const view = await waitUntil(async () => {
      const r = await running.service.requests.groupStatus(message.groupId, REQUESTER);
      return r.ok && r.view.members.every((m) => m.state === 'active') ? r.view : undefined;
    }, 'all active');
    const [first, ...rest] = view.members;

    // A stranger can revoke neither.
    await command(app, `revoke ${message.groupId}`, STRANGER);
    await command(app, `revoke ${first!.id}`);
    await waitUntil(
      async () => (await running.service.requests.get(first!.id))?.state === 'revoked',
      'one revoked',
    );
    for (const m of rest) expect((await running.service.requests.get(m.id))?.state).toBe('active');

    await command(app, `revoke ${message.groupId}`);
    await waitUntil(async () => {
      const now = await Promise.all(rest.map((m) => running.service.requests.get(m.id)));
      return now.every((r) => r?.state === 'revoked');
    }, 'the rest revoked');
    for (const m of view.members) {
      expect(await roleExists(await running.aws.accountClients.iam(m.accountId), m.id)).toBe(false);
    }
    expect(replies(app).some((t) => t.includes(`request ${message.groupId} does not exist`))).toBe(true);
  }, 60_000);

  it('a deny on the group message ends every account and nothing is granted', async () => {
    app = await startLifecycleApp({ mutate: threeAccounts });
    const running = app;
    await command(app, `sandbox,staging ${TEMPLATE} 30m INC-3 two accounts`);
    const message = await groupMessage(app.fake);
    await clickGroup(app, APPROVER1, 'group_approve', message);
    await waitUntil(async () => {
      const r = await running.service.requests.groupStatus(message.groupId, REQUESTER);
      return r.ok && r.view.members.every((m) => m.approvals.length === 1);
    }, 'the first approval');
    const denied = await app.service.requests.denyGroup(message.groupId, APPROVER2, 'not during the freeze');
    expect(denied.ok).toBe(true);
    const view = await app.service.requests.groupStatus(message.groupId, REQUESTER);
    expect(view.ok && view.view.members.map((m) => m.state)).toEqual(['denied', 'denied']);
    expect(await app.service.requests.approveGroup(message.groupId, APPROVER2)).toMatchObject({ ok: false });
    expect(dmsTo(app.fake, REQUESTER).filter((c) => String(c.args.text).includes('was denied'))).toHaveLength(
      1,
    );
  }, 60_000);

  it('the form takes several accounts; Deny on the group message asks for a reason and ends them all', async () => {
    app = await startLifecycleApp({ mutate: threeAccounts });
    const running = app;
    const picked = await app.post(
      viewSubmissionBody({
        userId: REQUESTER,
        callbackId: 'aws-access-request',
        values: {
          account: {
            account: {
              type: 'multi_external_select',
              selected_options: [{ value: SANDBOX }, { value: STAGING }],
            },
          },
          template: { template: { type: 'static_select', selected_option: { value: TEMPLATE } } },
          duration: { duration: { type: 'static_select', selected_option: { value: '1800' } } },
          reason: { reason: { type: 'plain_text_input', value: 'INC-8 from the form' } },
        },
      }),
    );
    expect(picked.status).toBe(200);
    const message = await groupMessage(app.fake);
    await waitUntil(
      () =>
        dmsTo(running.fake, REQUESTER).find((c) =>
          String(c.args.text).includes(`\`${message.groupId}\` for 2 accounts`),
        ),
      'the answer by DM',
    );

    // A stranger's Deny is refused before any form opens; an approver gets the reason form.
    await clickGroup(app, STRANGER, 'group_deny', message);
    await waitUntil(
      () => running.fake.callsTo('chat.postEphemeral').find((c) => c.args.user === STRANGER),
      'the stranger refusal',
    );
    expect(app.fake.callsTo('views.open')).toHaveLength(0);
    await clickGroup(app, APPROVER1, 'group_deny', message);
    const form = await waitUntil(() => running.fake.callsTo('views.open')[0], 'the deny form');
    expect((form.args.view as { private_metadata: string }).private_metadata).toBe(message.groupId);
    await app.post(
      viewSubmissionBody({
        userId: APPROVER1,
        callbackId: 'aws-access-deny',
        privateMetadata: message.groupId,
        values: { reason: { reason: { type: 'plain_text_input', value: 'not during the freeze' } } },
      }),
    );
    await waitUntil(async () => {
      const r = await running.service.requests.groupStatus(message.groupId, REQUESTER);
      return (
        r.ok && r.view.members.every((m) => m.state === 'denied' && m.denyReason === 'not during the freeze')
      );
    }, 'both denied');
    await waitUntil(
      () =>
        running.fake
          .callsTo('chat.update')
          .find(
            (c) =>
              c.args.ts === message.ts && JSON.stringify(c.args.blocks).includes('not during the freeze'),
          ),
      'the message shows the denial',
    );
  }, 30_000);

  it('refuses a request above the account limit, naming the count and the limit', async () => {
    app = await startLifecycleApp({
      mutate: (config) => {
        threeAccounts(config);
        config.requests.maxAccountsPerRequest = 2;
      },
    });
    const running = app;
    await command(app, `sandbox,staging,dev ${TEMPLATE} 30m INC-4 too many`);
    await waitUntil(
      () => replies(running).find((t) => t.includes('covers 3 accounts and the limit is 2 per request')),
      'the refusal',
    );
    expect(groupMessages(app.fake)).toHaveLength(0);
    expect(await app.service.requests.listFor(REQUESTER)).toMatchObject({ pending: [] });
  }, 30_000);
});

describe('ou: requests (moto Organizations)', () => {
  let app: LifecycleApp | undefined;
  beforeEach(async () => {
    await resetMoto();
  });
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  /** root → Workloads → Team → Deep, root → Other → Shared, root → Shared. */
  async function organization() {
    const client = new OrganizationsClient({ region: 'us-east-1', endpoint: awsEndpointUrl() });
    await client.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    const root = (await client.send(new ListRootsCommand({}))).Roots![0]!.Id!;
    const ou = async (parent: string, name: string) =>
      (await client.send(new CreateOrganizationalUnitCommand({ ParentId: parent, Name: name })))
        .OrganizationalUnit!.Id!;
    const workloads = await ou(root, 'Workloads');
    const team = await ou(workloads, 'Team');
    const deep = await ou(team, 'Deep');
    const other = await ou(root, 'Other');
    const shared1 = await ou(other, 'Shared');
    const shared2 = await ou(root, 'Shared');
    const account = async (name: string, parent: string) => {
      const created = await client.send(
        new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }),
      );
      const id = created.CreateAccountStatus!.AccountId!;
      await client.send(
        new MoveAccountCommand({ AccountId: id, SourceParentId: root, DestinationParentId: parent }),
      );
      return id;
    };
    return {
      workloads,
      shared: [shared1, shared2],
      accounts: {
        top: await account('wl-top', workloads),
        team: await account('wl-team', team),
        deep: await account('wl-deep', deep),
        other: await account('other-one', other),
        shared1: await account('shared-one', shared1),
        shared2: await account('shared-two', shared2),
      },
    };
  }

  it('resolves every account under the OU, nested OUs included, and refuses an ambiguous name', async () => {
    const org = await organization();
    app = await startLifecycleApp({
      mutate: (config) => {
        config.aws.organizations = { ...config.aws.organizations, enabled: true, cacheTtl: 600 };
      },
    });
    const running = app;
    await command(app, `ou:workloads ${TEMPLATE} 30m INC-5 everything in workloads`);
    const message = await groupMessage(app.fake);
    const view = await app.service.requests.groupStatus(message.groupId, REQUESTER);
    expect(view.ok).toBe(true);
    const ids = view.ok ? view.view.members.map((m) => m.accountId).sort() : [];
    expect(ids).toEqual([org.accounts.top, org.accounts.team, org.accounts.deep].sort());
    expect(JSON.stringify(message.call.args.blocks)).toContain('wl-deep');
    expect(JSON.stringify(message.call.args.blocks)).not.toContain('other-one');

    // By id too, mixed with an account, de-duplicated.
    await command(app, `ou:${org.workloads},wl-top ${TEMPLATE} 30m INC-6 by id`);
    await waitUntil(() => groupMessages(running.fake)[1], 'the second group message');

    await command(app, `ou:Shared,wl-top ${TEMPLATE} 30m INC-7 which shared`);
    const refusal = await waitUntil(
      () => replies(running).find((t) => t.includes('more than one OU is called')),
      'the ambiguity refusal',
    );
    for (const id of org.shared) expect(refusal).toContain(id);
  }, 60_000);
});
