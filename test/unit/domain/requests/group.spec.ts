/** Multi-account requests (requests/group.ts) against the in-memory doubles of their ports. */
import { describe, expect, it } from 'vitest';
import type { AccessRequest } from '../../../../src/domain/access-request.js';
import type { Account } from '../../../../src/domain/ports.js';
import { accountsUnderOu } from '../../../../src/domain/requests/group.js';
import {
  ALICE,
  APPROVERS,
  BOB,
  BREAKGLASS,
  CAROL,
  DAVE,
  ERIN,
  ONCALL,
  PROD,
  READONLY,
  requestWorld,
  SANDBOX,
  type RequestWorld,
} from '../../../support/request-doubles.js';
import { testRule } from '../../../support/rules.js';

const draft = (account: string, over: Partial<{ template: string; requesterId: string }> = {}) => ({
  requesterId: ALICE,
  account,
  template: READONLY.name,
  durationSeconds: 3600,
  reason: 'INC-1 looking',
  ...over,
});

async function askGroup(world: RequestWorld, account = 'sandbox,production') {
  const result = await world.service.submit(draft(account));
  if (!result.ok) throw new Error(result.refusals.map((r) => r.message).join('; '));
  expect(result.group).toBeDefined();
  return result.group!;
}

async function members(world: RequestWorld, groupId: string): Promise<AccessRequest[]> {
  const result = await world.service.groupStatus(groupId, ALICE);
  if (!result.ok) throw new Error(result.refusal.message);
  return result.view.members;
}

describe('resolving ou:<name or id>', () => {
  const ou = (id: string, name: string) => ({ id, name });
  const account = (id: string, ...path: Array<{ id: string; name: string }>): Account => ({
    id,
    name: `acct-${id}`,
    aliases: [],
    ouPath: [ou('r-root', 'Root'), ...path],
  });
  const workloads = ou('ou-w', 'Workloads');
  const team = ou('ou-t', 'Team');
  const sharedA = ou('ou-s1', 'Shared');
  const sharedB = ou('ou-s2', 'Shared');
  const accounts = [
    account('1', workloads),
    account('2', workloads, team),
    account('3', ou('ou-o', 'Other')),
    account('4', sharedA),
    account('5', workloads, sharedB),
  ];

  it('takes every account under the OU, nested OUs included, by name in any case or by id', () => {
    const byName = accountsUnderOu(accounts, 'workloads');
    expect(Array.isArray(byName) && byName.map((a) => a.id)).toEqual(['1', '2', '5']);
    const byId = accountsUnderOu(accounts, 'ou-t');
    expect(Array.isArray(byId) && byId.map((a) => a.id)).toEqual(['2']);
  });

  it('refuses a name two OUs share, listing their ids, and a name no OU has', () => {
    expect(accountsUnderOu(accounts, 'Shared')).toMatchObject({
      code: 'ambiguous-ou',
      message: expect.stringMatching(/more than one OU is called "Shared" \(ou-s1, ou-s2\)/),
    });
    expect(accountsUnderOu(accounts, 'Nowhere')).toMatchObject({ code: 'unknown-ou' });
  });
});

describe('several accounts in one request', () => {
  it('is one group: strictest approvals on each account, the auto-approving one waits, one message, one DM', async () => {
    const world = requestWorld();
    const view = await askGroup(world);
    const [sandbox, prod] = view.members;
    expect(sandbox).toMatchObject({ accountId: SANDBOX.id, state: 'pending', approvalsRequired: 0 });
    expect(prod).toMatchObject({ accountId: PROD.id, state: 'pending', approvalsRequired: 2 });
    expect(world.groupNotifier.posted).toHaveLength(1);
    expect(world.notifier.of('approvalRequested')).toHaveLength(0);
    expect(world.notifier.of('toRequester')).toHaveLength(1);

    expect(await world.service.approveGroup(view.group.id, BOB)).toMatchObject({ ok: true });
    expect((await members(world, view.group.id)).map((m) => m.state)).toEqual(['pending', 'pending']);
    expect(world.grants.callsTo('grant')).toHaveLength(0);

    const done = await world.service.approveGroup(view.group.id, CAROL);
    expect(done).toMatchObject({ ok: true });
    const after = await members(world, view.group.id);
    expect(after.map((m) => m.state)).toEqual(['active', 'active']);
    expect(after[0]).toMatchObject({ autoApproved: true, decidedBy: 'system' });
    expect(world.grants.callsTo('grant')).toHaveLength(2);
    // One DM listing both grants, never one per account.
    expect(world.groupNotifier.deliveries).toEqual([
      { groupId: view.group.id, requestIds: after.map((m) => m.id) },
    ]);
    expect(world.notifier.of('delivered')).toHaveLength(0);
  });

  it('looks the requester up once however many accounts the request names', async () => {
    const world = requestWorld();
    const lookedUp: string[] = [];
    const person = world.people.person.bind(world.people);
    world.people.person = async (id) => {
      lookedUp.push(id);
      return person(id);
    };
    await askGroup(world);
    expect(lookedUp.filter((id) => id === ALICE)).toHaveLength(1);
  });

  it('the requester cannot approve their own request', async () => {
    const world = requestWorld();
    const view = await askGroup(world);
    expect(await world.service.approveGroup(view.group.id, ALICE)).toMatchObject({
      ok: false,
      refusal: { code: 'self-approval' },
    });
    expect((await members(world, view.group.id)).every((m) => m.approvals.length === 0)).toBe(true);
  });

  it('an account approved early is not granted (not even by reconcile) until the rest is approved', async () => {
    const world = requestWorld({
      rules: [
        testRule({
          name: 'sandbox-small',
          match: { accounts: [SANDBOX.id] },
          approvers: { users: [BOB, DAVE], groups: [] },
        }),
        testRule({
          name: 'production',
          match: { accounts: [PROD.id] },
          approvers: { users: [], groups: [APPROVERS] },
          approvalsRequired: 2,
        }),
      ],
    });
    const view = await askGroup(world);
    await world.service.approveGroup(view.group.id, BOB);
    // Carol may decide production only: it reaches 2 of 2, sandbox stays at 1 of 2.
    await world.service.approveGroup(view.group.id, CAROL);
    const [sandbox, prod] = await members(world, view.group.id);
    expect(sandbox).toMatchObject({ state: 'pending', approvals: [{ approverId: BOB }] });
    expect(prod!.state).toBe('approved');
    expect(await world.service.provision(prod!.id)).toMatchObject({ state: 'approved' });
    expect(world.grants.callsTo('grant')).toHaveLength(0);

    await world.service.approveGroup(view.group.id, DAVE);
    expect((await members(world, view.group.id)).map((m) => m.state)).toEqual(['active', 'active']);
  });

  it('reconcile finishes a group whose worker died after the last approval, before the auto-approving account followed', async () => {
    const world = requestWorld();
    const view = await askGroup(world);
    await world.service.approveGroup(view.group.id, BOB);
    // The worker dies right after Carol's approval is counted and audited (its next step reads
    // the group again): production is approved, sandbox (auto-approving) still pending.
    const get = world.groups.get.bind(world.groups);
    let reads = 0;
    world.groups.get = async (id) => {
      if (++reads === 2) throw new Error('worker killed');
      return get(id);
    };
    await expect(world.service.approveGroup(view.group.id, CAROL)).rejects.toThrow('worker killed');
    world.groups.get = get;
    const [sandbox, prod] = await members(world, view.group.id);
    expect([sandbox!.state, prod!.state]).toEqual(['pending', 'approved']);
    // A click-time provision still waits; reconcile's repair (staleBefore) finishes the group.
    expect(await world.service.provision(prod!.id)).toMatchObject({ state: 'approved' });
    world.clock.advance(11 * 60_000);
    const repaired = await world.service.provision(prod!.id, { staleBefore: world.clock.now() - 600_000 });
    expect(repaired).toMatchObject({ state: 'active' });
    const after = await members(world, view.group.id);
    expect(after.map((m) => m.state)).toEqual(['active', 'active']);
    expect(after[0]).toMatchObject({ autoApproved: true, decidedBy: 'system' });
    expect(world.grants.callsTo('grant')).toHaveLength(2);
    expect(world.groupNotifier.deliveries).toEqual([
      { groupId: view.group.id, requestIds: after.map((m) => m.id) },
    ]);
    // A second, overlapping run finds nothing left to do and grants nothing twice.
    await world.service.provision(prod!.id, { staleBefore: world.clock.now() - 600_000 });
    expect(world.grants.callsTo('grant')).toHaveLength(2);
  });

  it('an approvers message Slack failed to post is posted by the first account’s reminder, once', async () => {
    const world = requestWorld();
    const post = world.groupNotifier.groupApprovalRequested.bind(world.groupNotifier);
    world.groupNotifier.groupApprovalRequested = () => Promise.reject(new Error('slack down'));
    const view = await askGroup(world);
    expect(world.groupNotifier.posted).toHaveLength(0);
    expect((await world.groups.get(view.group.id))?.message).toBeUndefined();
    world.groupNotifier.groupApprovalRequested = post;

    expect(await world.service.remind(view.members[0]!.id)).toBe(true);
    expect(world.groupNotifier.posted).toHaveLength(1);
    expect((await world.groups.get(view.group.id))?.message).toEqual({
      channel: 'C-APPROVALS',
      ts: 'g1.000',
    });
    await world.service.remind(view.members[0]!.id);
    expect(world.groupNotifier.posted).toHaveLength(1);
  });

  it('two approvers completing different accounts at the same moment grant each account once', async () => {
    const world = requestWorld({
      rules: [
        testRule({
          name: 'sandbox',
          match: { accounts: [SANDBOX.id] },
          approvers: { users: [BOB], groups: [] },
        }),
        testRule({
          name: 'production',
          match: { accounts: [PROD.id] },
          approvers: { users: [CAROL], groups: [] },
        }),
      ],
    });
    const view = await askGroup(world);
    // Real timing: a grant takes a while, and the second click's path reaches the grants while
    // the first click's grants are under way (claimed, not yet active).
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const grant = world.grants.grant.bind(world.grants);
    world.grants.grant = async (input) => {
      await sleep(50);
      return grant(input);
    };
    const dm = world.notifier.toRequester.bind(world.notifier);
    let dms = 0;
    world.notifier.toRequester = async (request, text) => {
      if (++dms === 2) await sleep(20);
      return dm(request, text);
    };
    const results = await Promise.all([
      world.service.approveGroup(view.group.id, BOB),
      world.service.approveGroup(view.group.id, CAROL),
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect((await members(world, view.group.id)).map((m) => m.state)).toEqual(['active', 'active']);
    expect(world.grants.callsTo('grant')).toHaveLength(2);
    expect(world.audit.events.filter((e) => e.action === 'grant')).toHaveLength(2);
    expect(world.groupNotifier.deliveries).toHaveLength(1);
  });

  it('refuses a rule that has fewer approvers than the strictest count', async () => {
    const world = requestWorld({
      rules: [
        testRule({
          name: 'one-person',
          match: { accounts: [SANDBOX.id] },
          approvers: { users: [BOB], groups: [] },
        }),
        testRule({
          name: 'production',
          match: { accounts: [PROD.id] },
          approvers: { users: [], groups: [APPROVERS] },
          approvalsRequired: 2,
        }),
      ],
    });
    const result = await world.service.submit(draft('sandbox,production'));
    expect(result).toMatchObject({ ok: false, refusals: [{ code: 'too-few-approvers' }] });
    expect(world.groups.groups.size).toBe(0);
  });

  it('refuses the whole request when one account is refused, naming it, and creates nothing', async () => {
    const world = requestWorld();
    const result = await world.service.submit(draft('production,staging'));
    expect(result.ok).toBe(false);
    const messages = result.ok ? [] : result.refusals.map((r) => r.message);
    expect(messages).toEqual([expect.stringMatching(/^staging \(333333333333\): no approval rule covers/)]);
    expect(await world.service.listFor(ALICE)).toMatchObject({ pending: [] });
    expect(world.groups.groups.size).toBe(0);
  });

  it('refuses more accounts than requests.maxAccountsPerRequest, saying both numbers', async () => {
    const world = requestWorld({ adjust: (s) => (s.maxAccountsPerRequest = 1) });
    const result = await world.service.submit(draft('sandbox,production'));
    expect(result).toMatchObject({
      ok: false,
      refusals: [
        {
          code: 'too-many-accounts',
          message: expect.stringContaining('covers 2 accounts and the limit is 1'),
        },
      ],
    });
  });

  it('refuses a list far past the limit before looking any name up', async () => {
    const world = requestWorld({ adjust: (s) => (s.maxAccountsPerRequest = 2) });
    const names = Array.from({ length: 5 }, (_, i) => `acct-${i}`).join(',');
    const result = await world.service.submit(draft(names));
    expect(result).toMatchObject({
      ok: false,
      refusals: [
        {
          code: 'too-many-accounts',
          message: expect.stringContaining('names 5 accounts and the limit is 2'),
        },
      ],
    });
  });

  it('refuses break-glass for several accounts at once', async () => {
    const world = requestWorld({
      rules: [
        testRule({
          name: 'everything',
          approvers: { users: [], groups: [APPROVERS] },
          breakGlass: { templates: [BREAKGLASS.name], requesterGroups: [ONCALL] },
        }),
      ],
    });
    const result = await world.service.submit(draft('sandbox,production', { template: BREAKGLASS.name }));
    expect(result).toMatchObject({ ok: false, refusals: [{ code: 'multi-account-break-glass' }] });
    expect(world.grants.callsTo('grant')).toHaveLength(0);
  });

  it('one account named twice (or an OU resolving to one) is an ordinary request', async () => {
    const world = requestWorld();
    const result = await world.service.submit(draft('production,prod'));
    expect(result).toMatchObject({ ok: true });
    expect(result.ok && result.group).toBeUndefined();
    expect(result.ok && result.request.groupId).toBeUndefined();
    expect(world.notifier.of('approvalRequested')).toHaveLength(1);
  });

  it('submitted again under the same intake id creates nothing twice', async () => {
    const world = requestWorld();
    const first = await world.service.submit(draft('sandbox,production'), { requestId: 'r-abc1234567' });
    const again = await world.service.submit(draft('sandbox,production'), { requestId: 'r-abc1234567' });
    expect(first.ok && first.group?.group.id).toBe('g-abc1234567');
    expect(again.ok && again.group?.group.id).toBe('g-abc1234567');
    expect((await world.service.listFor(ALICE)).pending).toHaveLength(2);
    expect(world.groupNotifier.posted).toHaveLength(1);
  });

  it('an auto-approved group submitted again under the same intake id tells the requester nothing new', async () => {
    const world = requestWorld({
      rules: [testRule({ name: 'auto', match: { accounts: [SANDBOX.id, PROD.id] }, autoApprove: true })],
    });
    const first = await world.service.submit(draft('sandbox,production'), { requestId: 'r-auto000001' });
    expect(first.ok && first.group?.members.map((m) => m.state)).toEqual(['active', 'active']);
    const dms = world.notifier.of('toRequester').length;
    const again = await world.service.submit(draft('sandbox,production'), { requestId: 'r-auto000001' });
    expect(again.ok && again.group?.group.id).toBe('g-auto000001');
    // No "waiting for 0 approvals" DM, no timers, no approvers' message for a granted request.
    expect(world.notifier.of('toRequester')).toHaveLength(dms);
    expect(world.groupNotifier.posted).toHaveLength(0);
    expect(world.grants.callsTo('grant')).toHaveLength(2);
  });

  it('a group an intake run left incomplete is never announced: its accounts are cancelled', async () => {
    const world = requestWorld();
    // The run was cut off after the group record and before its second account was created.
    await world.groups.create({
      id: 'g-cut0000001',
      requesterId: ALICE,
      memberIds: ['r-cut0000001-1', 'r-cut0000001-2'],
      createdAt: world.clock.now(),
    });
    const created = await world.service.submit(draft('production'), { requestId: 'r-cut0000001-1' });
    expect(created.ok).toBe(true);
    const again = await world.service.submit(draft('sandbox,production'), { requestId: 'r-cut0000001' });
    expect(again).toMatchObject({
      ok: false,
      refusals: [{ message: expect.stringContaining('please ask again') }],
    });
    expect((await world.service.get('r-cut0000001-1'))?.state).toBe('cancelled');
    expect(world.groupNotifier.posted).toHaveLength(0);
  });

  it('a deny by an approver ends every account; nothing is granted', async () => {
    const world = requestWorld();
    const view = await askGroup(world);
    await world.service.approveGroup(view.group.id, BOB);
    expect(await world.service.denyGroup(view.group.id, ERIN, 'no')).toMatchObject({
      ok: false,
      refusal: { code: 'not-an-approver' },
    });
    expect(await world.service.denyGroup(view.group.id, CAROL, 'not now')).toMatchObject({ ok: true });
    expect((await members(world, view.group.id)).map((m) => m.state)).toEqual(['denied', 'denied']);
    expect(await world.service.approveGroup(view.group.id, CAROL)).toMatchObject({ ok: false });
    expect(world.grants.callsTo('grant')).toHaveLength(0);
  });

  it('only the requester cancels, and cancelling ends every account', async () => {
    const world = requestWorld();
    const view = await askGroup(world);
    expect(await world.service.cancelGroup(view.group.id, BOB)).toMatchObject({
      ok: false,
      refusal: { code: 'not-yours' },
    });
    expect(await world.service.cancelGroup(view.group.id, ERIN)).toMatchObject({
      ok: false,
      refusal: { code: 'not-found' },
    });
    expect(await world.service.cancelGroup(view.group.id, ALICE)).toMatchObject({ ok: true });
    expect((await members(world, view.group.id)).map((m) => m.state)).toEqual(['cancelled', 'cancelled']);
  });

  it('expiring unapproved tells the requester once and redraws the one message', async () => {
    const world = requestWorld();
    const view = await askGroup(world);
    const dmsBefore = world.notifier.of('toRequester').length;
    for (const m of view.members) expect(await world.service.expirePending(m.id)).toBe(true);
    expect((await members(world, view.group.id)).map((m) => m.state)).toEqual([
      'expired-unapproved',
      'expired-unapproved',
    ]);
    const dms = world.notifier.of('toRequester').slice(dmsBefore);
    expect(dms).toHaveLength(1);
    expect(dms[0]!.text).toContain(`Your request ${view.group.id} expired`);
    expect(world.groupNotifier.changes.at(-1)?.note).toContain('expired without a decision');
  });

  it("an account's own Approve / Deny (App Home) acts on its request", async () => {
    const world = requestWorld();
    const view = await askGroup(world);
    const prod = view.members[1]!;
    expect(await world.service.approve(prod.id, BOB)).toMatchObject({ ok: true });
    expect(await world.service.approve(prod.id, CAROL)).toMatchObject({ ok: true });
    expect((await members(world, view.group.id)).map((m) => m.state)).toEqual(['active', 'active']);
    expect(world.groupNotifier.deliveries).toHaveLength(1);

    const other = await askGroup(world);
    expect(await world.service.deny(other.members[0]!.id, BOB, 'no')).toMatchObject({ ok: true });
    expect((await members(world, other.group.id)).map((m) => m.state)).toEqual(['denied', 'denied']);
  });

  it('cancelling one account drops it; the rest goes on (and is granted if nothing else waits)', async () => {
    const world = requestWorld();
    const view = await askGroup(world);
    const [sandbox, prod] = view.members;
    expect(await world.service.cancel(prod!.id, ALICE)).toMatchObject({ ok: true });
    // Only sandbox is left, whose own rule auto-approves: it is granted now.
    const after = await members(world, view.group.id);
    expect(after.map((m) => m.state)).toEqual(['active', 'cancelled']);
    expect(after[0]).toMatchObject({ id: sandbox!.id, autoApproved: true });
    expect(world.groupNotifier.deliveries).toEqual([{ groupId: view.group.id, requestIds: [sandbox!.id] }]);
  });

  it('counts as one open request against requests.maxOpenPerRequester', async () => {
    const world = requestWorld({ maxOpenPerRequester: 2 });
    await askGroup(world);
    const single = await world.service.submit(draft('production'));
    expect(single.ok).toBe(true);
    const third = await world.service.submit(draft('sandbox,production'));
    expect(third).toMatchObject({ ok: false, refusals: [{ code: 'open-request-limit' }] });
  });
});

describe('revoking one account or the whole request', () => {
  async function granted(world: RequestWorld) {
    const view = await askGroup(world);
    await world.service.approveGroup(view.group.id, BOB);
    await world.service.approveGroup(view.group.id, CAROL);
    const all = await members(world, view.group.id);
    expect(all.map((m) => m.state)).toEqual(['active', 'active']);
    return { groupId: view.group.id, all };
  }

  it("an account's own id revokes that account only; the request id revokes the rest", async () => {
    const world = requestWorld();
    const { groupId, all } = await granted(world);
    expect(await world.service.revokeGrant(all[0]!.id, ALICE)).toMatchObject({ ok: true });
    expect((await members(world, groupId)).map((m) => m.state)).toEqual(['revoked', 'active']);
    expect(world.grants.callsTo('revoke')).toHaveLength(1);
    expect(world.groupNotifier.changes.at(-1)?.note).toBe(`${all[0]!.accountName}: revoked by <@${ALICE}>`);

    const rest = await world.service.revokeGroup(groupId, ALICE, { reason: 'done' });
    expect(rest).toMatchObject({ ok: true });
    expect((await members(world, groupId)).map((m) => m.state)).toEqual(['revoked', 'revoked']);
    expect(world.grants.callsTo('revoke').map((c) => c.requestId)).toEqual(all.map((m) => m.id));
    expect(await world.service.revokeGroup(groupId, ALICE)).toMatchObject({
      ok: false,
      refusal: { code: 'wrong-state' },
    });
  });

  it('a stranger revoking the request learns nothing about it, not even its accounts', async () => {
    const world = requestWorld();
    const { groupId } = await granted(world);
    expect(await world.service.revokeGroup(groupId, ERIN)).toEqual({
      ok: false,
      refusal: { code: 'not-found', message: `request ${groupId} does not exist` },
    });
    expect(world.grants.callsTo('revoke')).toHaveLength(0);
  });

  it('a stranger revoking or extending a request with no active grant is told it does not exist, not its state', async () => {
    const world = requestWorld();
    const waiting = await askGroup(world);
    const notFound = (id: string) => ({
      ok: false,
      refusal: { code: 'not-found', message: `request ${id} does not exist` },
    });
    expect(await world.service.revokeGroup(waiting.group.id, ERIN)).toEqual(notFound(waiting.group.id));
    expect(await world.service.extendGroup(waiting.group.id, ERIN, 1800)).toEqual(notFound(waiting.group.id));
    // Its requester still hears why.
    expect(await world.service.revokeGroup(waiting.group.id, ALICE)).toMatchObject({
      ok: false,
      refusal: { code: 'wrong-state' },
    });
  });

  it('extend by the request id extends every active account', async () => {
    const world = requestWorld();
    const { groupId, all } = await granted(world);
    const result = await world.service.extendGroup(groupId, ALICE, 1800);
    expect(result.ok).toBe(true);
    for (const m of all) expect(result.ok && result.message).toContain(m.accountName);
  });
});
