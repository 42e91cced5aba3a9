/**
 * A grant ends on time: the revoke job, not a test hook, removes the role at the grant's end.
 * The one slow test of the suite (it waits out a real 20-second grant).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  activeGrant,
  auditEvents,
  revokedEvents,
  roleExists,
  startLifecycleApp,
  type LifecycleApp,
} from '../support/grant-lifecycle.js';
import { resetMoto } from '../support/services.js';
import { dmsTo, REQUESTER, updatesOf, waitUntil } from '../support/slack-flow.js';

describe('a grant ends on time', () => {
  let app: LifecycleApp | undefined;
  beforeEach(async () => {
    await resetMoto();
  });
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('a 20-second grant is revoked by the job within 5 seconds of its end', async () => {
    app = await startLifecycleApp();
    const { request, message } = await activeGrant(app, '20s');
    expect(await roleExists(app.iam, request.id)).toBe(true);
    expect(request.expiresAt! - request.startsAt!).toBe(20_000);
    // The gauge is read from the store at scrape time: 1 while the grant lasts, 0 after.
    expect(await app.service.metrics.registry.metrics()).toMatch(/aws_access_active_grants 1/);

    const revoked = await waitUntil(
      async () => {
        const r = await app!.service.requests.get(request.id);
        return r?.state === 'revoked' ? r : undefined;
      },
      'the revoke job',
      30_000,
    );
    const lateness = (revoked.revokedAt! - request.expiresAt!) / 1000;
    console.log(`revoke lateness for a 20 s grant: ${lateness.toFixed(3)} s past its end`);
    expect(lateness).toBeGreaterThanOrEqual(0);
    expect(lateness).toBeLessThan(5);
    expect(revoked.revokedBy).toBe('system');

    // IAM: the role is gone.
    expect(await roleExists(app.iam, request.id)).toBe(false);
    // Slack: the approver message says revoked, and the requester was told.
    const update = await waitUntil(
      () => updatesOf(app!.fake, message).find((c) => String(c.args.text).includes('revoked')),
      'the approver message update',
    );
    expect(JSON.stringify(update.args.blocks)).toContain('revoked: the grant ended');
    await waitUntil(
      () => dmsTo(app!.fake, REQUESTER).find((c) => String(c.args.text).includes('has been revoked')),
      'the requester DM',
    );
    // One audit event moved it to revoked; the metrics saw one revocation and its lateness.
    expect(revokedEvents(await auditEvents(app, request.id))).toHaveLength(1);
    const metrics = await app.service.metrics.registry.metrics();
    expect(metrics).toMatch(/aws_access_revocations_total\{result="ok"\} 1/);
    expect(metrics).toMatch(/aws_access_revoke_lateness_seconds_count 1/);
    expect(metrics).toMatch(/aws_access_active_grants 0/);
  }, 60_000);
});
