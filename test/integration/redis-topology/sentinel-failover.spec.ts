/**
 * On the real local Sentinel set (`npm run test:sentinel`): a Sentinel failover in the middle of
 * a burst of grants (real Bolt, fake Slack, recording grant engine, role `all`) loses nothing:
 * every approval is kept; every request is active with exactly one grant and its revoke job, or
 * (its grant step met the switch) approved and awaiting reconcile's repair; the audit chain
 * verifies.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { jobId, QueueName } from '../../../src/jobs/queues.js';
import { startTestApp, type TestApp } from '../../support/app-harness.js';
import { redisTarget, redisTopology, testConfig } from '../../support/services.js';
import {
  APPROVER1,
  approverMessage,
  click,
  command,
  seedPeople,
  waitUntil,
} from '../../support/slack-flow.js';

const onSentinel = redisTopology() === 'sentinel';
const REQUESTS = 20;

/** Asks the Sentinels; the first that answers. */
async function sentinelCall(...args: string[]): Promise<unknown> {
  const { sentinel } = redisTarget();
  let lastError: unknown;
  for (const { host, port } of sentinel!.sentinels) {
    const client = new Redis({
      host,
      port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return await client.call('SENTINEL', ...args);
    } catch (error) {
      lastError = error;
    } finally {
      client.disconnect();
    }
  }
  throw lastError;
}

async function primaryPort(): Promise<number> {
  const [, port] = (await sentinelCall('GET-MASTER-ADDR-BY-NAME', redisTarget().sentinel!.name)) as string[];
  return Number(port);
}

describe.runIf(onSentinel)('a Sentinel failover during a grant storm', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('loses nothing: every request active once, every revoke job there, the audit chain intact', async () => {
    app = await startTestApp({
      role: 'all',
      loaded: testConfig((config) => {
        config.requests.maxOpenPerRequester = 100;
      }),
    });
    const a = app;
    seedPeople(a.fake);
    for (let i = 0; i < REQUESTS; i++) {
      expect((await command(a, `sbx readonly 1h storm ${i}`)).status).toBe(200);
    }
    const messages = await Promise.all(
      Array.from({ length: REQUESTS }, (_, i) => approverMessage(a.fake, i)),
    );
    const before = await primaryPort();

    // The storm: one approval every 150 ms for ~3 s, each grant taking 200 ms; the failover is
    // started after the first four clicks, so clicks, grants and their Redis writes go on while
    // the Sentinels promote the replica and the clients move to it.
    a.grants.delayMs = 200;
    const clicks: Array<Promise<Awaited<ReturnType<typeof click>> | undefined>> = [];
    let failover: Promise<unknown> | undefined;
    for (const [i, m] of messages.entries()) {
      if (i === 4) failover = sentinelCall('FAILOVER', redisTarget().sentinel!.name);
      clicks.push(click(a, APPROVER1, 'request_approve', m).catch(() => undefined));
      await new Promise((r) => setTimeout(r, 150));
    }
    await failover;
    await Promise.all(clicks);
    await waitUntil(async () => (await primaryPort()) !== before || undefined, 'the new primary', 20_000);

    // Settle on the new primary, then look at every request. A click is acknowledged before its
    // work runs, so a click that met the switch may have recorded the approval and failed the
    // grant step: such a request waits in `approved` for reconcile's repair (provisioningTimeout),
    // which is the service's documented answer to a grant that did not finish. Lost would be an
    // approval gone (pending), a grant made twice, or an active grant without its revoke job.
    const stateOf = (id: string) => a.service.requests.get(id).then((r) => r?.state);
    const grantsQueue = a.service.queues.get(QueueName.grants);
    const awaitingRepair: string[] = [];
    for (const m of messages) {
      const state = await waitUntil(
        async () => {
          const s = await stateOf(m.requestId).catch(() => undefined);
          return s === 'active' ? s : undefined;
        },
        `request ${m.requestId} active`,
        5_000,
      ).catch(() => stateOf(m.requestId));
      const grants = a.grants.callsTo('grant').filter((c) => c.requestId === m.requestId);
      expect(grants.length, `grants of ${m.requestId}`).toBeLessThanOrEqual(1);
      if (state === 'approved') {
        awaitingRepair.push(m.requestId);
        continue;
      }
      expect(state, m.requestId).toBe('active');
      expect(grants, m.requestId).toHaveLength(1);
      expect(
        await grantsQueue.getJob(jobId.revoke(m.requestId)),
        `revoke job of ${m.requestId}`,
      ).toBeDefined();
    }
    expect(awaitingRepair.length).toBeLessThan(REQUESTS / 2);
    const verified = await a.service.audit.verify();
    expect(verified).toMatchObject({ ok: true });
    expect(await primaryPort()).not.toBe(before);
    // Visible in the test output: how many approvers had to click again.
    console.info(
      `failover: ${REQUESTS} approvals, ${REQUESTS - awaitingRepair.length} active, ${awaitingRepair.length} approved awaiting reconcile`,
    );
  }, 90_000);
});
