import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app-harness.js';
import { testConfig } from '../../support/services.js';
import { REQUESTER } from '../../support/slack-flow.js';
import { slashCommandBody } from '../../support/slack-request.js';

/** A well-formed, signed `/aws-access help`: the web role answers it 200. */
const helpCommand = () => slashCommandBody({ text: 'help', userId: REQUESTER });

const fastBatches = () =>
  testConfig((c) => {
    c.slack.auditBatchSeconds = 0.2;
  });

async function recordProbe(app: TestApp, action: string): Promise<void> {
  await app.service.audit.record({ at: new Date().toISOString(), actor: 'U0ADMIN', action, outcome: 'ok' });
}

describe('what each role runs', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('a worker-only process serves no Slack requests but posts audit batches', async () => {
    app = await startTestApp({ role: 'worker', loaded: fastBatches() });
    expect(app.service.slack).toBeUndefined();
    // The same signed command the web role answers 200 (below) finds no Slack route here.
    expect((await app.post(helpCommand())).status).toBe(404);
    await recordProbe(app, 'probe-worker');
    const posted = await app.fake.waitForCall('chat.postMessage', (c) => c.args.channel === 'C0AUDIT');
    expect(String(posted.args.text)).toContain('probe-worker');
  });

  it('a web-only process serves Slack but leaves audit batches to the workers', async () => {
    app = await startTestApp({ role: 'web', loaded: fastBatches() });
    expect(app.service.slack).toBeDefined();
    const help = await app.post(helpCommand());
    expect(help.status).toBe(200);
    expect(help.text).toContain('/aws-access');
    await recordProbe(app, 'probe-web');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(app.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0AUDIT')).toHaveLength(0);
    const queued = await app.service.queues.get('notify').getJobCounts('delayed', 'wait');
    expect((queued.delayed ?? 0) + (queued.wait ?? 0)).toBe(1);
  });
});
