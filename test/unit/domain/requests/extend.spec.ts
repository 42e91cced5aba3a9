/** Extending a grant: one set of limits for the offer and the check, and the approval rule. */
import { describe, expect, it } from 'vitest';
import {
  ALICE,
  BOB,
  CAROL,
  DAVE,
  SANDBOX,
  activeGrant,
  ask,
  requestWorld,
  type RequestWorld,
} from '../../../support/request-doubles.js';

const HOUR = 3600;

/** An auto-extendable sandbox grant (readonly: 4 h at once, 8 h in total, 2 extensions). */
async function sandboxGrant(world: RequestWorld) {
  world.settings.rules[0]!.extensions.autoApprove = true;
  return ask(world, { account: SANDBOX.id, reason: '' });
}

describe('extending a grant', () => {
  it('offers what the limits allow, and the check agrees with the offer', async () => {
    const world = requestWorld();
    const grant = await sandboxGrant(world);
    // 1 h granted of at most 8 h: one extension may add 4 h.
    expect(world.service.extensionAllowance(grant)).toEqual({ maxSeconds: 4 * HOUR, needsApproval: false });
    const tooLong = await world.service.extendGrant(grant.id, ALICE, 4 * HOUR + 900);
    expect(tooLong).toMatchObject({ ok: false, refusal: { code: 'extension-limit' } });
    const tooShort = await world.service.extendGrant(grant.id, ALICE, 60);
    expect(tooShort).toMatchObject({ ok: false, refusal: { code: 'duration-too-short' } });
    const ok = await world.service.extendGrant(grant.id, ALICE, 4 * HOUR);
    expect(ok).toMatchObject({ ok: true, changed: true, request: { extensions: 1 } });
    expect(world.grants.callsTo('extend')).toHaveLength(1);
    // 5 h of 8 h: now the total limits it to 3 h.
    const after = ok.ok ? ok.request : grant;
    expect(world.service.extensionAllowance(after)).toEqual({ maxSeconds: 3 * HOUR, needsApproval: false });
    const overTotal = await world.service.extendGrant(grant.id, ALICE, 3 * HOUR + 900);
    expect(overTotal.ok || overTotal.refusal.message).toContain('this one can grow by at most 3h');
    expect(world.scheduler.grantEnds.get(grant.id)!.revokeAt).toBe(after.expiresAt);
  });

  it('stops offering and refuses once the number of extensions is used up', async () => {
    const world = requestWorld();
    const grant = await sandboxGrant(world);
    await world.service.extendGrant(grant.id, ALICE, 900);
    await world.service.extendGrant(grant.id, ALICE, 900);
    const used = (await world.store.get(grant.id))!;
    expect(world.service.extensionAllowance(used)).toEqual({
      maxSeconds: 0,
      needsApproval: false,
      reason: 'this grant has already been extended 2 times (the limit)',
    });
    const third = await world.service.extendGrant(grant.id, ALICE, 900);
    expect(third).toMatchObject({
      ok: false,
      refusal: {
        code: 'extension-limit',
        message: 'this grant has already been extended 2 times (the limit)',
      },
    });
  });

  it('a grant whose end has passed is never lengthened', async () => {
    const world = requestWorld();
    const grant = await sandboxGrant(world);
    world.clock.advance(HOUR * 1000);
    const late = await world.service.extendGrant(grant.id, ALICE, 900);
    expect(late).toMatchObject({ ok: false, refusal: { code: 'grant-ended' } });
    expect(world.grants.callsTo('extend')).toEqual([]);
  });

  it('under a 2-approval rule an extension waits for two approvers, then applies', async () => {
    const world = requestWorld();
    const grant = await activeGrant(world);
    expect(world.service.extensionAllowance(grant)).toMatchObject({ needsApproval: true });
    const asked = await world.service.extendGrant(grant.id, ALICE, HOUR);
    expect(asked).toMatchObject({
      ok: true,
      request: { pendingExtension: { seconds: HOUR, approvals: [] } },
    });
    expect(world.grants.callsTo('extend')).toEqual([]);
    const twice = await world.service.extendGrant(grant.id, ALICE, HOUR);
    expect(twice).toMatchObject({ ok: false, refusal: { code: 'extension-needs-approval' } });

    const own = await world.service.approveExtension(grant.id, ALICE);
    expect(own).toMatchObject({ ok: false, refusal: { code: 'self-approval' } });
    const first = await world.service.approveExtension(grant.id, BOB);
    expect(first).toMatchObject({ ok: true, message: 'Approval counted: 1 of 2.' });
    const second = await world.service.approveExtension(grant.id, CAROL);
    expect(second).toMatchObject({
      ok: true,
      request: { extensions: 1, expiresAt: grant.expiresAt! + HOUR * 1000 },
    });
    expect(second.ok && second.request.pendingExtension).toBeFalsy();
    expect(world.grants.callsTo('extend')).toHaveLength(1);
  });

  it('a denied extension leaves the grant as it was', async () => {
    const world = requestWorld();
    const grant = await activeGrant(world);
    const asked = await world.service.extendGrant(grant.id, ALICE, HOUR);
    const requestedAt = asked.ok ? asked.request.pendingExtension!.requestedAt : 0;
    const denied = await world.service.denyExtension(grant.id, BOB, requestedAt);
    expect(denied).toMatchObject({ ok: true, request: { expiresAt: grant.expiresAt, extensions: 0 } });
    const stale = await world.service.approveExtension(grant.id, CAROL, requestedAt);
    expect(stale).toMatchObject({ ok: false, refusal: { code: 'not-pending' } });
  });
});

describe('the Extend button’s offer', () => {
  it('someone else’s grant: told it does not exist, and the attempt is audited', async () => {
    const world = requestWorld();
    const grant = await sandboxGrant(world);
    const offer = await world.service.extensionOffer(grant.id, DAVE);
    expect(offer).toMatchObject({ ok: false, refusal: { code: 'not-found' } });
    expect(world.audit.events.at(-1)).toMatchObject({
      actor: DAVE,
      action: 'extend',
      outcome: 'refused',
      requestId: grant.id,
    });
    const missing = await world.service.extensionOffer('r-nothere', ALICE);
    expect(missing).toMatchObject({ ok: false, refusal: { code: 'not-found' } });
    expect(world.audit.events.at(-1)).toMatchObject({ actor: ALICE, action: 'extend', outcome: 'refused' });
  });

  it('the requester is offered what the limits allow', async () => {
    const world = requestWorld();
    const grant = await sandboxGrant(world);
    expect(await world.service.extensionOffer(grant.id, ALICE)).toMatchObject({
      ok: true,
      request: { id: grant.id },
      allowance: { maxSeconds: 4 * HOUR },
    });
  });
});
