/** Ending a grant: who may, idempotent for the bot, and a failure left for reconcile. */
import { describe, expect, it } from 'vitest';
import { GrantOperationError, SYSTEM_ACTOR } from '../../../../src/domain/request-service.js';
import { ALICE, BOB, ERIN, activeGrant, requestWorld } from '../../../support/request-doubles.js';

describe('revoking a grant', () => {
  it('the revoke job running twice revokes once and leaves one revoke event', async () => {
    const world = requestWorld();
    const grant = await activeGrant(world);
    const first = await world.service.revokeGrant(grant.id, SYSTEM_ACTOR, { reason: 'expired' });
    expect(first).toMatchObject({
      ok: true,
      changed: true,
      request: { state: 'revoked', revokedBy: 'system' },
    });
    const second = await world.service.revokeGrant(grant.id, SYSTEM_ACTOR, { reason: 'expired' });
    expect(second).toMatchObject({
      ok: true,
      changed: false,
      message: `Request ${grant.id} was already revoked.`,
    });
    expect(world.grants.callsTo('revoke')).toHaveLength(1);
    expect(world.audit.trail(grant.id).filter((e) => e.startsWith('revoke'))).toEqual(['revoke:ok']);
    expect(world.scheduler.grantEnds.has(grant.id)).toBe(false);
  });

  it('a person revoking twice is told the second time that it is not an active grant', async () => {
    const world = requestWorld();
    const grant = await activeGrant(world);
    expect(await world.service.revokeGrant(grant.id, ALICE)).toMatchObject({ ok: true });
    expect(await world.service.revokeGrant(grant.id, ALICE)).toMatchObject({
      ok: false,
      refusal: { code: 'wrong-state' },
    });
  });

  it('a stranger cannot revoke and learns nothing; an admin can', async () => {
    const world = requestWorld();
    const grant = await activeGrant(world);
    expect(await world.service.revokeGrant(grant.id, ERIN)).toMatchObject({
      ok: false,
      refusal: { code: 'not-found' },
    });
    expect(await world.service.revokeGrant(grant.id, BOB)).toMatchObject({
      ok: true,
      request: { state: 'revoked' },
    });
  });

  it('a failed revocation leaves the grant revoke-failed, alerts security and throws for a retry', async () => {
    const world = requestWorld();
    const grant = await activeGrant(world);
    world.grants.failNext('revoke');
    await expect(world.service.revokeGrant(grant.id, SYSTEM_ACTOR)).rejects.toBeInstanceOf(
      GrantOperationError,
    );
    expect((await world.store.get(grant.id))!.state).toBe('revoke-failed');
    expect(world.notifier.of('alertSecurity', grant.id)).toHaveLength(1);
    // The retry succeeds from revoke-failed.
    const retry = await world.service.revokeGrant(grant.id, SYSTEM_ACTOR);
    expect(retry).toMatchObject({ ok: true, request: { state: 'revoked' } });
    expect(retry.ok && retry.request.failure).toBeFalsy();
  });
});
