import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { slashCommandBody } from '../support/slack-request.js';

describe('the Slack app over HTTP', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => app.stop());

  it('answers a signed /aws-access help with the help text well inside 3 seconds', async () => {
    const res = await app.post(slashCommandBody({ text: 'help', userId: 'U0REQUESTER' }));
    expect(res.status).toBe(200);
    expect(res.elapsedMs).toBeLessThan(3000);
    expect(res.json).toMatchObject({ response_type: 'ephemeral' });
    expect((res.json as { text: string }).text).toContain(
      '/aws-access <account> <template> <duration> <reason',
    );
  });

  it('answers a malformed command with what was wrong and the usage line', async () => {
    const res = await app.post(slashCommandBody({ text: 'prod readonly forever', userId: 'U0REQUESTER' }));
    expect(res.status).toBe(200);
    const text = (res.json as { text: string }).text;
    expect(text).toContain('"forever" is not a duration');
    expect(text).toContain('/aws-access list');
  });

  it('rejects an unsigned request with 401', async () => {
    const res = await app.post(slashCommandBody({ text: 'help', userId: 'U0REQUESTER' }), {
      signature: null,
    });
    expect(res.status).toBe(401);
  });

  it('rejects a wrongly signed request with 401', async () => {
    const res = await app.post(slashCommandBody({ text: 'help', userId: 'U0REQUESTER' }), {
      secret: 'not-the-secret',
    });
    expect(res.status).toBe(401);
  });

  it('rejects stale and future timestamps with 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(
      (await app.post(slashCommandBody({ text: 'help', userId: 'U0REQUESTER' }), { timestamp: now - 600 }))
        .status,
    ).toBe(401);
    expect(
      (await app.post(slashCommandBody({ text: 'help', userId: 'U0REQUESTER' }), { timestamp: now + 600 }))
        .status,
    ).toBe(401);
  });

  it('serves health, readiness and metrics', async () => {
    expect((await fetch(`${app.baseUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${app.baseUrl}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${app.baseUrl}/metrics`)).text();
    expect(metrics).toContain('process_cpu_seconds_total');
    expect(metrics).toMatch(/aws_access_slack_requests_total\{outcome="rejected"\} \d+/);
  });
});
