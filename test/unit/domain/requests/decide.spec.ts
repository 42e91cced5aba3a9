/** Deciding a pending request: N of M, no self or twin approvals, deny and cancel. */
import { describe, expect, it } from 'vitest';
import { ALICE, APPROVERS, BOB, CAROL, ERIN, ask, requestWorld } from '../../../support/request-doubles.js';

describe('deciding a request', () => {
  it('needs two distinct approvers; the second approval grants', async () => {
    const world = requestWorld();
    const request = await ask(world);
    const first = await world.service.approve(request.id, BOB);
    expect(first).toMatchObject({
      ok: true,
      message: 'Approval counted: 1 of 2.',
      request: { state: 'pending' },
    });
    expect(world.grants.callsTo('grant')).toEqual([]);
    const again = await world.service.approve(request.id, BOB);
    expect(again).toMatchObject({ ok: false, refusal: { code: 'already-approved' } });
    const second = await world.service.approve(request.id, CAROL);
    expect(second).toMatchObject({ ok: true, request: { state: 'active' } });
    expect(world.grants.callsTo('grant')).toHaveLength(1);
    expect(world.scheduler.pending.has(request.id)).toBe(false);
    expect(world.audit.trail(request.id)).toEqual([
      'request:ok',
      'approve:ok',
      'approve:refused',
      'approve:ok',
      'grant:ok',
    ]);
  });

  it('a requester cannot approve their own request', async () => {
    const world = requestWorld();
    world.people.groups.get(APPROVERS)!.push(ALICE);
    const request = await ask(world);
    const result = await world.service.approve(request.id, ALICE);
    expect(result).toMatchObject({ ok: false, refusal: { code: 'self-approval' } });
    expect((await world.store.get(request.id))!.approvals).toEqual([]);
  });

  it("a requester's second Slack account (same e-mail) cannot approve either", async () => {
    const world = requestWorld();
    world.people.add({ id: 'U-ALICE2', name: 'alice-alt', email: 'Alice@corp.example' }, [APPROVERS]);
    const request = await ask(world);
    const result = await world.service.approve(request.id, 'U-ALICE2');
    expect(result).toMatchObject({ ok: false, refusal: { code: 'self-approval' } });
    expect(result.ok || result.refusal.message).toContain('same AWS identity or e-mail');
  });

  it('one approver with two Slack accounts counts once', async () => {
    const world = requestWorld();
    world.people.add({ id: 'U-BOB2', name: 'bob-alt', email: 'bob@corp.example' }, [APPROVERS]);
    const request = await ask(world);
    await world.service.approve(request.id, BOB);
    const twin = await world.service.approve(request.id, 'U-BOB2');
    expect(twin).toMatchObject({ ok: false, refusal: { code: 'same-person' } });
    expect((await world.store.get(request.id))!.state).toBe('pending');
  });

  it('someone outside the approver groups cannot approve', async () => {
    const world = requestWorld();
    const request = await ask(world);
    const result = await world.service.approve(request.id, ERIN);
    expect(result).toMatchObject({ ok: false, refusal: { code: 'not-an-approver' } });
  });

  it('a deny ends the request and tells the requester', async () => {
    const world = requestWorld();
    const request = await ask(world);
    const result = await world.service.deny(request.id, BOB, 'not during the freeze');
    expect(result).toMatchObject({
      ok: true,
      request: { state: 'denied', denyReason: 'not during the freeze' },
    });
    expect(world.scheduler.pending.has(request.id)).toBe(false);
    expect(world.notifier.of('toRequester', request.id).at(-1)!.text).toBe(
      `Your request ${request.id} was denied by <@${BOB}>.`,
    );
    const late = await world.service.approve(request.id, CAROL);
    expect(late).toMatchObject({ ok: false, refusal: { code: 'not-pending' } });
  });

  it('only the requester can cancel; a stranger is told the request does not exist', async () => {
    const world = requestWorld();
    const request = await ask(world);
    const stranger = await world.service.cancel(request.id, ERIN);
    expect(stranger).toMatchObject({ ok: false, refusal: { code: 'not-found' } });
    const approver = await world.service.cancel(request.id, BOB);
    expect(approver).toMatchObject({ ok: false, refusal: { code: 'not-yours' } });
    const own = await world.service.cancel(request.id, ALICE);
    expect(own).toMatchObject({ ok: true, request: { state: 'cancelled' } });
    expect(world.audit.trail(request.id)).toEqual([
      'request:ok',
      'cancel:refused',
      'cancel:refused',
      'cancel:ok',
    ]);
  });

  it('an approval the audit log cannot take does not count: the request ends, nothing is granted', async () => {
    const world = requestWorld();
    const request = await ask(world);
    world.audit.failNext();
    const result = await world.service.approve(request.id, BOB);
    expect(result).toMatchObject({ ok: false, refusal: { code: 'wrong-state' } });
    expect((await world.store.get(request.id))!.state).toBe('denied');
    expect(world.grants.callsTo('grant')).toEqual([]);
    expect(world.notifier.of('alertSecurity', request.id)).toHaveLength(1);
  });
});
