/**
 * A web pod that starts while Slack's Web API is unreachable must still serve Slack once it is
 * back: nothing about Slack's availability at start-up may be kept for the life of the process.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { startFakeSlack } from '../support/fake-slack.js';
import { testConfig } from '../support/services.js';
import { command, seedPeople } from '../support/slack-flow.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

describe('Slack down while the web role starts', () => {
  it('signed commands are served once Slack answers again', async () => {
    const fake = await startFakeSlack();
    // Slack answers the bot's token check with an error once, while the pod starts.
    fake.failNext('auth.test', { error: 'internal_error' });
    app = await startTestApp({ fake, loaded: testConfig() });
    seedPeople(app.fake);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Whichever request meets the failed check, a later one is served: nothing keeps the failure.
    await command(app, 'help');
    const res = await command(app, 'help');
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.json)).toContain('just-in-time AWS access');
    expect(fake.callsTo('auth.test').length).toBeGreaterThanOrEqual(2);
  });
});
