/** The pending request's timers and the expiry warning, as their jobs call them. */
import { describe, expect, it } from 'vitest';
import { BOB, activeGrant, ask, requestWorld } from '../../../support/request-doubles.js';

describe('timers', () => {
  it('a pending request expires at its TTL, once; the requester is told', async () => {
    const world = requestWorld();
    const request = await ask(world);
    world.clock.advance(86400_000);
    expect(await world.service.expirePending(request.id)).toBe(true);
    expect(await world.service.expirePending(request.id)).toBe(false);
    expect((await world.store.get(request.id))!.state).toBe('expired-unapproved');
    expect(world.audit.trail(request.id)).toEqual(['request:ok', 'expire:ok']);
    expect(world.notifier.of('toRequester', request.id).at(-1)!.text).toContain('expired without a decision');
    const late = await world.service.approve(request.id, BOB);
    expect(late).toMatchObject({ ok: false, refusal: { code: 'not-pending' } });
  });

  it('a decided request is left alone by its expire, remind and escalate jobs', async () => {
    const world = requestWorld();
    const request = await ask(world);
    await world.service.deny(request.id, BOB, 'no');
    expect(await world.service.expirePending(request.id)).toBe(false);
    expect(await world.service.remind(request.id)).toBe(false);
    expect(await world.service.escalate(request.id)).toBe(false);
    expect((await world.store.get(request.id))!.state).toBe('denied');
  });

  it('reminds and escalates a request still waiting', async () => {
    const world = requestWorld();
    const request = await ask(world);
    expect(await world.service.remind(request.id)).toBe(true);
    expect(await world.service.escalate(request.id)).toBe(true);
    expect(world.notifier.of('remind', request.id)).toHaveLength(1);
    expect(world.notifier.of('escalate', request.id)).toHaveLength(1);
  });

  it('warns before a grant ends, offering what an extension may add', async () => {
    const world = requestWorld();
    const grant = await activeGrant(world);
    expect(await world.service.warnExpiry(grant.id)).toBe(true);
    const warning = world.notifier.of('expiryWarning', grant.id)[0]!;
    expect(JSON.parse(warning.text!)).toEqual({ maxSeconds: 4 * 3600, needsApproval: true });
    world.clock.advance(3600_000);
    expect(await world.service.warnExpiry(grant.id)).toBe(false);
  });
});
