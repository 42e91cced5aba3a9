/**
 * On the real local Sentinel set (`npm run test:sentinel`): a Sentinel failover in the middle of
 * a burst of grants (real Bolt, fake Slack, recording grant engine, role `all`) loses nothing:
 * the primary changes; every acknowledged click has its approval recorded (or its approver was
 * told to click again); every approved request ends active with exactly one grant and its revoke
 * job (after reconcile's repair if the switch cut its grant step off); the audit chain verifies.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { jobId, QueueName } from '../../../src/jobs/queues.js';
import { systemClock } from '../../../src/clock.js';
import { staticAccountDirectory } from '../../../src/domain/static-catalogs.js';
import { runReconcile } from '../../../src/jobs/reconcile.js';
import { createLogger } from '../../../src/logger.js';
import { startTestApp, type TestApp } from '../../support/app-harness.js';
import { redisTarget, redisTopology, testConfig } from '../../support/services.js';
import {
  APPROVER1,
  approverMessage,
  click,
  command,
  ephemeralsTo,
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
    const answers = await Promise.all(clicks);
    await waitUntil(async () => (await primaryPort()) !== before || undefined, 'the new primary', 20_000);
    // Every click's work (after the ack, retried while Redis reconnects) has told the approver.
    const toldApprover = (id: string) => ephemeralsTo(a.fake, APPROVER1).filter((text) => text.includes(id));
    await waitUntil(
      () => messages.every((m) => toldApprover(m.requestId).length > 0) || undefined,
      'an answer to every click',
      30_000,
    );

    // Every click Slack saw acknowledged has its approval recorded, or its approver was told that
    // it failed and to click again. A request the switch left `approved` (approval recorded, grant
    // step cut off) is repaired by reconcile once `durations.provisioningTimeout` has passed: the
    // designed recovery, run here at once (stuck after 0 s) instead of waiting for its schedule.
    const retryAsked: string[] = [];
    for (const [i, m] of messages.entries()) {
      expect(answers[i]?.status, `click on ${m.requestId}`).toBe(200);
      const request = await a.service.requests.get(m.requestId);
      const recorded = request?.approvals.some((x) => x.approverId === APPROVER1) ?? false;
      const told = toldApprover(m.requestId);
      if (!recorded) {
        expect(told.join('\n'), `approver of ${m.requestId} told to retry`).toMatch(
          /failed; please try again/,
        );
        retryAsked.push(m.requestId);
      }
    }
    const stuck = (await a.service.requests.listInState('approved')).map((r) => r.id);
    if (stuck.length) {
      const { config } = a.loaded;
      const summary = await runReconcile({
        requests: a.service.requests,
        grants: a.grants,
        accounts: staticAccountDirectory(config.aws.accounts),
        redis: a.service.redis,
        redisPrefix: config.redis.prefix,
        clock: systemClock,
        logger: createLogger({ level: 'silent' }),
        stuckAfterSeconds: 0,
      });
      expect(summary.repaired.sort()).toEqual(expect.arrayContaining(stuck.sort()));
    }

    // Every request whose approval counted ends active with exactly one grant and its revoke job.
    const grantsQueue = a.service.queues.get(QueueName.grants);
    for (const m of messages) {
      if (retryAsked.includes(m.requestId)) continue;
      const request = await a.service.requests.get(m.requestId);
      expect(request?.state, m.requestId).toBe('active');
      const grants = a.grants.callsTo('grant').filter((c) => c.requestId === m.requestId);
      expect(grants, `grants of ${m.requestId}`).toHaveLength(1);
      expect(
        await grantsQueue.getJob(jobId.revoke(m.requestId)),
        `revoke job of ${m.requestId}`,
      ).toBeDefined();
    }
    expect(retryAsked.length, 'clicks answered with "try again"').toBeLessThan(REQUESTS / 2);
    expect(await a.service.audit.verify()).toMatchObject({ ok: true });
    expect(await primaryPort()).not.toBe(before);
    // Visible in the test output: what the switch cost.
    console.info(
      `failover: ${REQUESTS} approvals, ${stuck.length} repaired by reconcile, ${retryAsked.length} approvers asked to click again`,
    );
  }, 90_000);
});
