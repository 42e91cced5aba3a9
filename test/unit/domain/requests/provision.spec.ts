/** Provisioning: re-checked at grant time, and every way a grant can fail. */
import { describe, expect, it } from 'vitest';
import { GrantRollbackError } from '../../../../src/errors.js';
import { ALICE, BOB, CAROL, PROD, ask, requestWorld } from '../../../support/request-doubles.js';

describe('provisioning a grant', () => {
  it('a request the config no longer allows at grant time fails without touching AWS', async () => {
    const world = requestWorld();
    const request = await ask(world);
    await world.service.approve(request.id, BOB);
    // The requester became a guest while the request waited.
    world.people.add({ id: ALICE, name: 'alice', email: 'alice@corp.example', isRestricted: true });
    const result = await world.service.approve(request.id, CAROL);
    expect(result).toMatchObject({ ok: true, request: { state: 'failed' } });
    expect(world.grants.callsTo('grant')).toEqual([]);
    const grantEvent = world.audit.events.find((e) => e.requestId === request.id && e.action === 'grant');
    expect(grantEvent).toMatchObject({
      outcome: 'refused',
      stateBefore: 'approved',
      stateAfter: 'failed',
      details: { code: 'not-allowed-at-grant' },
    });
    expect(world.notifier.of('toRequester', request.id).at(-1)!.text).toContain('Nothing was granted.');
    expect(world.notifier.of('alertSecurity', request.id)).toHaveLength(1);
  });

  it('an approval written into the store without the bot’s proof is not granted', async () => {
    const world = requestWorld();
    const request = await ask(world);
    await world.service.approve(request.id, BOB);
    // CAROL's approval appears in the store, but not through the service: no signed proof.
    await world.store.approve(request.id, CAROL, world.clock.now());
    expect((await world.service.provision(request.id))!.state).toBe('failed');
    expect(world.grants.callsTo('grant')).toEqual([]);
  });

  it('a grant-engine failure moves the request to failed and alerts security', async () => {
    const world = requestWorld();
    world.grants.failNext('grant');
    const request = await ask(world);
    await world.service.approve(request.id, BOB);
    const result = await world.service.approve(request.id, CAROL);
    expect(result).toMatchObject({ ok: true, request: { state: 'failed' } });
    expect((await world.store.get(request.id))!.failure).toContain('AccessDenied: simulated failure');
    expect(world.scheduler.grantEnds.has(request.id)).toBe(false);
    expect(world.notifier.of('alertSecurity', request.id)[0]!.text).toContain(
      `Granting request ${request.id} failed`,
    );
  });

  it('a failed grant whose role could not be removed is revoke-failed with its role recorded', async () => {
    const world = requestWorld();
    const request = await ask(world);
    const roleName = world.grants.roleName(request.id);
    world.grants.failNext(
      'grant',
      new GrantRollbackError(
        PROD.id,
        roleName,
        `arn:aws:iam::${PROD.id}:role/aws-access/${roleName}`,
        'x',
        'y',
      ),
    );
    await world.service.approve(request.id, BOB);
    const result = await world.service.approve(request.id, CAROL);
    expect(result).toMatchObject({ ok: true, request: { state: 'revoke-failed', roleName } });
    expect(world.audit.trail(request.id).at(-1)).toBe('grant:failed');
    expect(world.notifier.of('alertSecurity', request.id)[0]!.text).toContain('could not be removed');
  });

  it('two overlapping reconcile repairs of one stuck request: one grant, one grant event (chaos run, #13)', async () => {
    const world = requestWorld();
    world.grants.delayMs = 20;
    const request = await ask(world);
    await world.service.approve(request.id, BOB);
    // The provisioner dies after the Nth approval (Slack down at grant time here): stuck in approved.
    const storeApprove = world.store.approve.bind(world.store);
    const person = world.people.person.bind(world.people);
    let down = false;
    world.store.approve = async (...args) => {
      const out = await storeApprove(...args);
      down = true;
      return out;
    };
    world.people.person = async (id) => {
      if (down) throw new Error('Slack is down');
      return person(id);
    };
    await world.service.approve(request.id, CAROL).catch(() => undefined);
    down = false;
    expect((await world.store.get(request.id))!.state).toBe('approved');
    // Two reconcile runs (a stalled one re-run after a worker crash, and the scheduled one) both
    // list it as stuck and repair it at the same moment.
    world.clock.advance(3_600_000);
    const staleBefore = world.clock.now() - 600_000;
    await Promise.all([
      world.service.provision(request.id, { staleBefore }),
      world.service.provision(request.id, { staleBefore }),
    ]);
    expect((await world.store.get(request.id))!.state).toBe('active');
    expect(world.grants.callsTo('grant')).toHaveLength(1);
    expect(world.grants.callsTo('revoke')).toHaveLength(0);
    const grants = world.audit.events.filter((e) => e.requestId === request.id && e.action === 'grant');
    expect(grants).toMatchObject([{ outcome: 'ok', stateAfter: 'active' }]);
  });

  it('reconcile leaves a request claimed within the provisioning timeout alone', async () => {
    const world = requestWorld();
    world.grants.delayMs = 20;
    const request = await ask(world);
    await world.service.approve(request.id, BOB);
    const first = world.service.approve(request.id, CAROL);
    // Listed as stuck before the claim; provision re-reads and sees the fresh claim.
    await new Promise((r) => setTimeout(r, 5));
    const repair = await world.service.provision(request.id, { staleBefore: world.clock.now() - 1 });
    expect(repair?.state).toBe('approved');
    await first;
    expect(world.grants.callsTo('grant')).toHaveLength(1);
  });

  it('a grant the audit log cannot take is removed again and the request fails', async () => {
    const world = requestWorld();
    const next = await ask(world);
    await world.service.approve(next.id, BOB);
    const { audit } = world;
    const original = audit.record.bind(audit);
    // Only the grant event fails: the approval before it was written.
    audit.record = async (event) => {
      if (event.action === 'grant' && event.outcome === 'ok') throw new Error('audit down');
      return original(event);
    };
    await world.service.approve(next.id, CAROL);
    expect((await world.store.get(next.id))!.state).toBe('failed');
    expect(world.grants.callsTo('revoke').map((c) => c.requestId)).toEqual([next.id]);
  });
});
