/**
 * Ending a grant early with `/aws-access revoke <id>`: the requester, an approver of the rule
 * and a member of an admin group may, at once; anyone else is refused and nothing changes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jobId, QueueName } from '../../../src/jobs/queues.js';
import {
  activeGrant,
  auditEvents,
  revokedEvents,
  roleExists,
  startLifecycleApp,
  type LifecycleApp,
} from '../../support/grant-lifecycle.js';
import { resetMoto } from '../../support/services.js';
import { APPROVER2, command, REQUESTER, STRANGER, waitUntil } from '../../support/slack-flow.js';

const ADMIN = 'U0ADMIN';

describe('early revoke', () => {
  let app: LifecycleApp | undefined;
  beforeEach(async () => {
    await resetMoto();
  });
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it.each([
    ['the requester', REQUESTER],
    ['an approver of the rule (not the one who approved)', APPROVER2],
    ['a member of an admin group', ADMIN],
  ])('%s revokes at once: role gone, request revoked, jobs removed', async (_who, userId) => {
    app = await startLifecycleApp();
    const { request } = await activeGrant(app, '1h');
    await command(app, `revoke ${request.id}`, userId);
    const revoked = await waitUntil(async () => {
      const r = await app!.service.requests.get(request.id);
      return r?.state === 'revoked' ? r : undefined;
    }, 'the revocation');
    expect(revoked.revokedBy).toBe(userId);
    expect(await roleExists(app.iam, request.id)).toBe(false);
    // The state changes first, then the jobs are removed: wait for both.
    await waitUntil(
      async () =>
        (await app!.service.queues.get(QueueName.grants).getJob(jobId.revoke(request.id))) === undefined,
      'the revoke job removed',
    );
    const events = revokedEvents(await auditEvents(app, request.id));
    expect(events.map((e) => e.actor)).toEqual([userId]);
  });

  it('anyone else is refused and the grant stays', async () => {
    app = await startLifecycleApp();
    const { request } = await activeGrant(app, '1h');
    await command(app, `revoke ${request.id}`, STRANGER);
    const answer = await waitUntil(
      () =>
        app!.fake
          .callsTo('response_url')
          .map((c) => String(c.args.text))
          .find((t) => t.includes('does not exist')),
      'the refusal',
    );
    // Someone with no part in the request learns nothing about it, not even that it exists.
    expect(answer).toContain(`request ${request.id} does not exist`);
    expect((await app.service.requests.get(request.id))?.state).toBe('active');
    expect(await roleExists(app.iam, request.id)).toBe(true);
    const refused = (await auditEvents(app, request.id)).filter((e) => e.outcome === 'refused');
    expect(refused.map((e) => [e.actor, e.action])).toEqual([[STRANGER, 'revoke']]);
  });
});
