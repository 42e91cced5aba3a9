/**
 * Slack waits 3 s for a slash command's ack. `templates` and `status` need Slack look-ups (the
 * requester's profile and user groups) that retry and wait out rate limits: when those are slow
 * the ack still comes in time and the answer follows through the response_url.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { testConfig } from '../support/services.js';
import { command, seedPeople, STRANGER, waitUntil } from '../support/slack-flow.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

describe('answers that need Slack look-ups never miss the 3-second ack', () => {
  it('templates: a rate-limited profile look-up acks in time, then answers by response_url', async () => {
    app = await startTestApp({ loaded: testConfig() });
    seedPeople(app.fake);
    app.fake.failNext('users.info', { status: 429, retryAfter: 4 });
    const res = await command(app, 'templates');
    expect(res.status).toBe(200);
    expect(res.elapsedMs).toBeLessThan(3000);
    expect(JSON.stringify(res.json)).toContain('Working on it');
    const answer = await waitUntil(
      () => app!.fake.callsTo('response_url').find((c) => String(c.args.text).includes('readonly')),
      'the template list by response_url',
    );
    expect(answer.args.response_type).toBe('ephemeral');
  });

  it('status: answered in the ack when the look-ups are fast', async () => {
    app = await startTestApp({ loaded: testConfig() });
    seedPeople(app.fake);
    const res = await command(app, 'status r-unknown0001', STRANGER);
    expect(res.elapsedMs).toBeLessThan(3000);
    expect(JSON.stringify(res.json)).toContain('does not exist');
    expect(app.fake.callsTo('response_url')).toEqual([]);
  });
});
