/**
 * The per-person limit of open requests (requests.maxOpenPerRequester) through the real Bolt
 * receiver, fake Slack and real Redis: a request past it is refused with the limit and what to
 * do; two requests racing at the limit cannot both be created.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { OpenRequestLimitError } from '../../../src/domain/request-ports.js';
import { startTestApp, type TestApp } from '../../support/app-harness.js';
import { testConfig } from '../../support/services.js';
import { command, REQUESTER, seedPeople, waitUntil } from '../../support/slack-flow.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

async function start(maxOpen: number): Promise<TestApp> {
  app = await startTestApp({
    loaded: testConfig((c) => {
      c.requests.maxOpenPerRequester = maxOpen;
    }),
  });
  seedPeople(app.fake);
  return app;
}

/** Runs a command and returns its (next) answer through the response URL. */
async function answer(a: TestApp, text: string): Promise<string> {
  const before = a.fake.callsTo('response_url').length;
  await command(a, text);
  return waitUntil(
    () =>
      a.fake
        .callsTo('response_url')
        .slice(before)
        .map((c) => String(c.args.text))
        .find((t) => !t.startsWith('Checking') && !t.startsWith('Working')),
    `the answer to "${text}"`,
  );
}

const approverPosts = (a: TestApp) =>
  a.fake
    .callsTo('chat.postMessage')
    .filter((c) => JSON.stringify(c.args.blocks ?? []).includes('request_approve')).length;

describe('open requests per person', () => {
  it('refuses a request past the limit, naming it and how to make room; cancelling one makes room', async () => {
    const a = await start(2);
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const text = await answer(a, 'sbx readonly 1h');
      expect(text).toContain('sent to the approvers');
      ids.push(/`(r-[0-9a-f]+)`/.exec(text)![1]!);
    }
    const refused = await answer(a, 'sbx readonly 1h');
    expect(refused).toContain('Your request was not created');
    expect(refused).toContain('you already have 2 open requests and the limit is 2 per person');
    for (const id of ids) expect(refused).toContain(`${id} (waiting for approval)`);
    expect(refused).toContain('/aws-access cancel &lt;id&gt;');
    expect(refused).toContain('/aws-access revoke &lt;id&gt;');
    expect(approverPosts(a)).toBe(2);
    expect((await a.service.requests.listFor(REQUESTER)).pending).toHaveLength(2);

    expect(await answer(a, `cancel ${ids[0]}`)).toContain(`Cancelled request ${ids[0]}`);
    expect(await answer(a, 'sbx readonly 1h')).toContain('sent to the approvers');
    expect(approverPosts(a)).toBe(3);
  });

  it('holds when two requests race at the limit: one is created, the other refused', async () => {
    const a = await start(2);
    expect(await answer(a, 'sbx readonly 1h')).toContain('sent to the approvers');
    const draft = {
      requesterId: REQUESTER,
      account: 'sbx',
      template: 'readonly',
      durationSeconds: 3600,
      reason: '',
    };
    // Both pass the early check (1 open of 2), as two replicas would; the create decides.
    const prepared = await Promise.all([
      a.service.requests.prepare(draft),
      a.service.requests.prepare(draft),
    ]);
    const results = await Promise.allSettled(
      prepared.map((p) => {
        if (!p.ok) throw new Error(`not prepared: ${JSON.stringify(p.refusals)}`);
        return a.service.requests.open(p.prepared);
      }),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected');
    expect(rejected?.reason).toBeInstanceOf(OpenRequestLimitError);
    expect((await a.service.requests.listFor(REQUESTER)).pending).toHaveLength(2);
    expect(approverPosts(a)).toBe(2);
  });
});
