/** The review a break-glass grant requires: an approver's click, and the first one wins. */
import { describe, expect, it } from 'vitest';
import { ALICE, BOB, BREAKGLASS, CAROL, ERIN, ask, requestWorld } from '../../../support/request-doubles.js';

describe('reviewing break-glass access', () => {
  it('of two approvers clicking at once, the first wins and the second is told who reviewed', async () => {
    const world = requestWorld();
    const grant = await ask(world, { template: BREAKGLASS.name });
    const [a, b] = await Promise.all([
      world.service.reviewBreakGlass(grant.id, BOB),
      world.service.reviewBreakGlass(grant.id, CAROL),
    ]);
    const results = [a, b];
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    const loser = results.find((r) => !r.ok)!;
    expect(loser).toMatchObject({ ok: false, refusal: { code: 'already-reviewed' } });
    const stored = (await world.store.get(grant.id))!;
    expect(loser.ok || loser.refusal.message).toContain(`<@${stored.reviewedBy}>`);
    expect(stored.state).toBe('active');
    expect(world.notifier.of('breakGlassReviewed', grant.id)).toHaveLength(1);
    expect(await world.service.waitingFor(BOB)).toEqual({ approvals: [], reviews: [] });
  });

  it('the requester cannot review their own break-glass access, nor can a non-approver', async () => {
    const world = requestWorld();
    const grant = await ask(world, { template: BREAKGLASS.name });
    expect(await world.service.reviewBreakGlass(grant.id, ALICE)).toMatchObject({
      ok: false,
      refusal: { code: 'self-approval' },
    });
    expect(await world.service.reviewBreakGlass(grant.id, ERIN)).toMatchObject({
      ok: false,
      refusal: { code: 'not-an-approver' },
    });
    expect((await world.service.waitingFor(BOB)).reviews.map((r) => r.id)).toEqual([grant.id]);
  });
});
