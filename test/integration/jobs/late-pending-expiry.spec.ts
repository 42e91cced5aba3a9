/**
 * A pending request's expire job can run late (workers down, a backlog): until it runs the
 * request is still `pending`, but its time is up. An approval then must not count, let alone
 * grant. Real Bolt receiver, fake Slack, real Redis; the service's clock runs ahead of BullMQ's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app-harness.js';
import { auditEvents } from '../../support/grant-lifecycle.js';
import { ShiftClock } from '../../support/shift-clock.js';
import {
  APPROVER1,
  approverMessage,
  click,
  command,
  ephemeralsTo,
  seedPeople,
  updatesOf,
  waitUntil,
} from '../../support/slack-flow.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

describe('an approval after the pending TTL', () => {
  it('is refused while the expire job is late: nothing is counted, nothing is granted', async () => {
    const clock = new ShiftClock();
    app = await startTestApp({ service: { clock } });
    seedPeople(app.fake);
    await command(app, 'sbx readonly 1h');
    const msg = await approverMessage(app.fake);
    const request = (await app.service.requests.get(msg.requestId))!;

    // The rule's TTL passes; the expire job (delayed in real time) has not run.
    clock.advance(request.pendingUntil - Date.now() + 1000);
    const updatesBefore = updatesOf(app.fake, msg).length;
    await click(app, APPROVER1, 'request_approve', msg);
    const refusal = await waitUntil(
      () => ephemeralsTo(app!.fake, APPROVER1).find((t) => t.includes('expired without a decision')),
      'the refusal to the approver',
    );
    expect(refusal).toContain(
      `request ${request.id} expired without a decision at ${new Date(request.pendingUntil).toISOString()}; nothing was changed`,
    );
    expect(await app.service.requests.get(request.id)).toMatchObject({
      state: 'pending',
      version: request.version,
      approvals: [],
    });
    expect(app.grants.callsTo('grant')).toEqual([]);
    expect(updatesOf(app.fake, msg)).toHaveLength(updatesBefore);
    const refused = (await auditEvents(app, request.id)).filter((e) => e.action === 'approve');
    expect(refused).toEqual([
      expect.objectContaining({ outcome: 'refused', details: { code: 'request-expired' } }),
    ]);
  });
});
