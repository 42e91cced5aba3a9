/** Asking for access: refusals, the auto path and the break-glass path, against in-memory ports. */
import { describe, expect, it } from 'vitest';
import {
  ALICE,
  BREAKGLASS,
  ERIN,
  PROD,
  READONLY,
  SANDBOX,
  ask,
  requestWorld,
} from '../../../support/request-doubles.js';

describe('asking for access', () => {
  it('refuses an unknown account and template, and audits the refusal', async () => {
    const world = requestWorld();
    const result = await world.service.submit({
      requesterId: ALICE,
      account: 'nowhere',
      template: 'everything',
      durationSeconds: 3600,
      reason: 'x',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.refusals.map((r) => r.code)).toEqual(['unknown-account', 'unknown-template']);
    expect(world.audit.events).toMatchObject([
      { actor: ALICE, action: 'request', outcome: 'refused', details: { account: 'nowhere' } },
    ]);
    expect(await world.store.listByRequester(ALICE)).toEqual([]);
  });

  it('refuses a production request without a reason, placed on the reason field', async () => {
    const world = requestWorld();
    const result = await world.service.submit({
      requesterId: ALICE,
      account: 'prod',
      template: READONLY.name,
      durationSeconds: 3600,
      reason: '  ',
    });
    expect(result).toMatchObject({ ok: false, refusals: [{ code: 'reason-required', field: 'reason' }] });
  });

  it('refuses a guest before looking at anything else', async () => {
    const world = requestWorld();
    world.people.add({ id: 'U-GUEST', name: 'guest', isRestricted: true });
    const result = await world.service.submit({
      requesterId: 'U-GUEST',
      account: PROD.id,
      template: READONLY.name,
      durationSeconds: 3600,
      reason: 'x',
    });
    expect(result).toMatchObject({ ok: false, refusals: [{ code: 'requester-ineligible' }] });
  });

  it('refuses someone with no AWS identity', async () => {
    const world = requestWorld();
    world.people.add({ id: 'U-NEW', name: 'new' });
    const result = await world.service.submit({
      requesterId: 'U-NEW',
      account: SANDBOX.id,
      template: READONLY.name,
      durationSeconds: 3600,
      reason: '',
    });
    expect(result).toMatchObject({ ok: false, refusals: [{ code: 'no-identity' }] });
  });

  it('refuses a request over the open-request limit and names the open ones', async () => {
    const world = requestWorld({ maxOpenPerRequester: 1 });
    const first = await ask(world);
    const result = await world.service.submit({
      requesterId: ALICE,
      account: PROD.id,
      template: READONLY.name,
      durationSeconds: 3600,
      reason: 'again',
    });
    expect(result).toMatchObject({ ok: false, refusals: [{ code: 'open-request-limit' }] });
    if (!result.ok) expect(result.refusals[0]!.message).toContain(`${first.id} (waiting for approval)`);
  });

  it('sends a production request to its approvers and sets its timers', async () => {
    const world = requestWorld();
    const request = await ask(world);
    expect(request.state).toBe('pending');
    expect(request.message).toEqual({ channel: 'C-APPROVALS', ts: '1.000' });
    expect(world.scheduler.pending.get(request.id)).toEqual({
      remindAt: world.clock.now() + 1800_000,
      escalateAt: world.clock.now() + 7200_000,
      expireAt: world.clock.now() + 86400_000,
    });
    expect(world.notifier.of('toRequester', request.id)[0]!.text).toContain('is waiting for 2 approvals');
    expect(world.grants.callsTo('grant')).toEqual([]);
  });

  it('grants an auto-approved request at once, audited request → auto-approve → grant', async () => {
    const world = requestWorld();
    const request = await ask(world, { account: SANDBOX.id, reason: '' });
    expect(request).toMatchObject({ state: 'active', autoApproved: true, decidedBy: 'system' });
    expect(world.grants.callsTo('grant')).toHaveLength(1);
    expect(world.audit.trail(request.id)).toEqual(['request:ok', 'auto-approve:ok', 'grant:ok']);
    expect(world.scheduler.grantEnds.get(request.id)).toEqual({
      revokeAt: world.clock.now() + 3600_000,
      warnAt: world.clock.now() + 3000_000,
    });
    expect(world.notifier.of('delivered', request.id)).toHaveLength(1);
    expect(world.notifier.of('approvalRequested')).toEqual([]);
  });

  it('an auto-approved request whose grant cannot start now stays approved and says so (chaos run, #13)', async () => {
    const world = requestWorld();
    // Slack answers users.info with 429 just after the approval: the grant-time check cannot run.
    const transition = world.store.transition.bind(world.store);
    const person = world.people.person.bind(world.people);
    let down = false;
    world.store.transition = async (...args) => {
      const out = await transition(...args);
      if (out.ok && out.request.state === 'approved') down = true;
      return out;
    };
    world.people.person = async (id) => {
      if (down) throw new Error('A rate limit was exceeded (users.info)');
      return person(id);
    };
    const request = await ask(world, { account: SANDBOX.id, reason: '' });
    // Not an error ("nothing was changed" would be false): the request exists, reconcile grants it.
    expect(request).toMatchObject({ state: 'approved', autoApproved: true });
    expect(world.grants.callsTo('grant')).toEqual([]);
    expect(world.audit.trail(request.id)).toEqual(['request:ok', 'auto-approve:ok']);
    down = false;
    expect((await world.service.provision(request.id))!.state).toBe('active');
  });

  it('grants break-glass at once to a member of the allowance, paging security', async () => {
    const world = requestWorld();
    const request = await ask(world, { template: BREAKGLASS.name });
    expect(request).toMatchObject({ state: 'active', breakGlass: true });
    expect(world.audit.trail(request.id)).toEqual(['request:ok', 'break-glass:ok', 'grant:ok']);
    expect(world.notifier.of('breakGlass', request.id)).toHaveLength(1);
    expect((await world.store.get(request.id))!.message).toBeDefined();
  });

  it('sends break-glass from someone outside the allowance to the approvers instead', async () => {
    const world = requestWorld();
    const request = await ask(world, { requesterId: ERIN, template: BREAKGLASS.name });
    expect(request).toMatchObject({ state: 'pending', breakGlass: false });
    expect(world.notifier.of('breakGlass')).toEqual([]);
  });
});
