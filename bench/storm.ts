/**
 * 2. Approval storm: N pending requests, each hit by 20 concurrent Approve clicks (signed
 * block_actions from 20 different approvers) through the real Bolt receiver. Measures click ack
 * latency, click throughput and click → delivery time, then checks the invariant: exactly one
 * counted approval, one grant call and one revoke-<id> job per request, and every other click
 * refused and audited. Run twice: with the recording grant engine (the Slack/Redis path alone)
 * and with the real grant engine on moto (roles really created; then also one role per request).
 */
import { randomBytes } from 'node:crypto';
import { ListRolesCommand, type Role } from '@aws-sdk/client-iam';
import { Redis } from 'ioredis';
import { countingBrokerSessions } from '../test/support/counting-account-clients.js';
import { jobId, QueueName, queueOptions } from '../src/jobs/queues.js';
import { hmacKeysFrom } from '../src/config/hmac-keys.js';
import { RedisAuditLog } from '../src/store/audit-log.js';
import { TEST_HMAC_KEY } from '../test/support/slack-request.js';
import { testRule } from '../test/support/rules.js';
import { Queue } from 'bullmq';
import { startInfra } from './support/infra.js';
import { benchResult, latencyCells, table, type BenchResult, type Check } from './support/report.js';
import { startServiceProcess } from './support/service-client.js';
import { approverMessages, clickApprove, REQUESTER, sendCommand, startSlack } from './support/slack-load.js';
import { ms, pool, rate, runBounded, summarize, waitFor, type Summary } from './support/stats.js';

const CLICKERS = 20;
const SANDBOX = '222222222222';

interface StormRun {
  engine: 'recording' | 'moto';
  template: string;
  grantDelayMs?: number;
  requests: number;
  clicks: number;
  inFlightRequests: number;
  clickErrors: number;
  clickAck: Summary;
  clicksPerSecond: number;
  /** First click on a request → the delivery DM to the requester. */
  clickToDelivery: Summary;
  /** First click → grant delivered and all 20 clickers answered. */
  settled: Summary;
  /** First click of the storm → last delivery: requests decided and granted per second. */
  grantsPerSecond: number;
  serviceCpuMs: number;
  eventLoopDelayP99Ms: number;
  checks: Check[];
}

async function runStorm(options: {
  engine: 'recording' | 'moto';
  requests: number;
  inFlightRequests: number;
  grantDelayMs?: number;
}): Promise<StormRun> {
  const { engine, requests: n, inFlightRequests } = options;
  const template = engine === 'moto' ? 's3-data-reader' : 'readonly';
  const crowd = Array.from({ length: CLICKERS }, (_, i) => `U0CROWD${String(i).padStart(2, '0')}`);
  const infra = await startInfra({ moto: engine === 'moto' });
  const { fake, responses } = await startSlack([{ group: 'S0CROWD', members: crowd }]);
  const prefix = `bench-storm-${randomBytes(4).toString('hex')}`;
  const svc = await startServiceProcess({
    redisUrl: infra.redisUrl,
    awsEndpointUrl: infra.awsEndpointUrl,
    slackApiUrl: fake.apiUrl,
    prefix,
    role: 'web',
    // One-line requests are created by the intake worker, in this process (no worker process).
    intakeInWebRole: true,
    engine,
    grantDelayMs: options.grantDelayMs,
    // One bench requester holds every request of the run (the test config allows 5 open).
    maxOpenPerRequester: n + 1,
    extraRules: [
      testRule({
        name: 'crowd',
        match: { accounts: ['sandbox'] },
        approvers: { users: [], groups: ['S0CROWD'] },
      }),
    ],
  });
  const redis = new Redis(infra.redisUrl, { maxRetriesPerRequest: 2 });
  redis.on('error', (e) => console.error(`  [bench redis] ${String(e)}`));
  try {
    // N pending requests, each with its approver message.
    await pool(
      Array.from({ length: n }, (_, i) => i),
      10,
      async (i) => {
        const res = await sendCommand(
          svc.baseUrl,
          `sbx ${template} 1h storm ${i}`,
          responses.url(`storm-${i}`),
        );
        if (res.status !== 200) throw new Error(`command failed: HTTP ${res.status}`);
      },
    );
    const ready = await waitFor(() => approverMessages(fake).size >= n || undefined, 30_000);
    if (!ready) throw new Error(`only ${approverMessages(fake).size} of ${n} approver messages were posted`);
    const messages = [...approverMessages(fake).values()];
    fake.clearCalls();
    await svc.stats(true);

    const clickAcks: number[] = [];
    let clickErrors = 0;
    const settled: number[] = [];
    const deliveries: number[] = [];
    const deliveryAt = (requestId: string) =>
      fake
        .callsTo('chat.postMessage')
        .find(
          (c) =>
            c.args.channel === REQUESTER &&
            JSON.stringify(c.args.blocks ?? '').includes(`aws-access-${requestId}`),
        )?.at;
    const answersFor = (requestId: string) =>
      fake
        .callsTo('chat.postEphemeral')
        .filter((c) => String(c.args.user).startsWith('U0CROWD') && String(c.args.text).includes(requestId))
        .length;
    const answered = () =>
      fake.callsTo('chat.postEphemeral').filter((c) => String(c.args.user).startsWith('U0CROWD')).length;
    const stormStart = Date.now();
    // Each lane fires one storm (20 clicks at once) and waits until it has settled — the grant
    // delivered and every clicker answered — before the next, so `inFlightRequests` storms run
    // at a time and no backlog hides behind fast acks.
    await runBounded({
      total: messages.length,
      concurrency: inFlightRequests,
      maxMs: 90_000,
      task: async (i) => {
        const message = messages[i]!;
        const t0 = Date.now();
        const results = await Promise.all(crowd.map((user) => clickApprove(svc.baseUrl, user, message)));
        for (const r of results) {
          if (r.status === 200) clickAcks.push(r.elapsedMs);
          else clickErrors += 1;
        }
        await waitFor(
          () => (deliveryAt(message.requestId) && answersFor(message.requestId) >= CLICKERS) || undefined,
          15_000,
          10,
        );
        const delivered = deliveryAt(message.requestId);
        if (delivered) deliveries.push(delivered - t0);
        settled.push(Date.now() - t0);
        return 0;
      },
    });
    const stormEnd = Date.now();
    const lastDelivery = stormEnd;
    const stats = await svc.stats(false);

    // The invariant, checked in the service's own records.
    const ids = messages.map((m) => m.requestId);
    const grantsPer = new Map<string, number>();
    for (const call of stats.grantCalls.filter((c) => c.method === 'grant')) {
      grantsPer.set(call.requestId ?? '?', (grantsPer.get(call.requestId ?? '?') ?? 0) + 1);
    }
    const checks: Check[] = [];
    const wrongGrants = ids.filter((id) => grantsPer.get(id) !== 1);
    checks.push({
      what: `${engine}: exactly one grant call per request`,
      ok: wrongGrants.length === 0 && [...grantsPer.keys()].every((id) => ids.includes(id)),
      detail: `${[...grantsPer.values()].reduce((a, b) => a + b, 0)} grant calls for ${n} requests`,
    });
    const states = await Promise.all(
      ids.map(async (id) => ({
        state: await redis.hget(`${prefix}:request:${id}`, 'state'),
        approvals: await redis.zcard(`${prefix}:request:${id}:approvals`),
      })),
    );
    checks.push({
      what: `${engine}: every request active with exactly one counted approval`,
      ok: states.every((s) => s.state === 'active' && s.approvals === 1),
      detail: `${states.filter((s) => s.state === 'active').length} active, approvals counted: ${states.reduce((a, s) => a + s.approvals, 0)}`,
    });
    const queueRedis = new Redis(infra.redisUrl, { maxRetriesPerRequest: null });
    queueRedis.on('error', (e) => console.error(`  [bench queue redis] ${String(e)}`));
    const queue = new Queue(QueueName.grants, queueOptions(queueRedis, prefix));
    const jobs = await queue.getJobs(['delayed', 'waiting', 'active', 'completed', 'failed']);
    await queue.close();
    await queueRedis.quit();
    const revokeJobs = jobs.filter((j) => j.name === 'revoke');
    checks.push({
      what: `${engine}: exactly one revoke-<id> job per request`,
      ok:
        revokeJobs.length === n &&
        ids.every((id) => revokeJobs.filter((j) => j.id === jobId.revoke(id)).length === 1),
      detail: `${revokeJobs.length} revoke jobs for ${n} requests`,
    });
    // The chain is keyed with the service's HMAC key (the bench service runs with TEST_HMAC_KEY).
    const audit = new RedisAuditLog(redis, prefix, { chainKey: hmacKeysFrom(TEST_HMAC_KEY).auditChain });
    const approveEvents = { ok: 0, refused: 0 };
    for (let cursor = '-'; ;) {
      const page = await audit.read(cursor);
      for (const e of page) {
        if (e.event.action === 'approve' && e.event.outcome === 'ok') approveEvents.ok += 1;
        if (e.event.action === 'approve' && e.event.outcome === 'refused') approveEvents.refused += 1;
      }
      if (page.length < 500) break;
      cursor = page[page.length - 1]!.id;
    }
    checks.push({
      what: `${engine}: one accepted and ${CLICKERS - 1} refused approvals audited per request; every clicker answered`,
      ok:
        approveEvents.ok === n &&
        approveEvents.refused === n * (CLICKERS - 1) &&
        answered() === n * CLICKERS &&
        clickErrors === 0,
      detail: `audit: ${approveEvents.ok} ok, ${approveEvents.refused} refused; ${answered()} ephemeral answers; ${clickErrors} click errors`,
    });
    const verify = await audit.verify();
    checks.push({
      what: `${engine}: audit chain intact after the storm`,
      ok: verify.ok,
      detail: `${verify.entries} entries`,
    });
    if (engine === 'moto') {
      const clients = countingBrokerSessions(infra.awsEndpointUrl!, () => undefined);
      const iam = await clients.iam(SANDBOX);
      const roles: Role[] = [];
      let marker: string | undefined;
      do {
        const page = await iam.send(new ListRolesCommand({ PathPrefix: '/aws-access/', Marker: marker }));
        roles.push(...(page.Roles ?? []));
        marker = page.IsTruncated ? page.Marker : undefined;
      } while (marker);
      checks.push({
        what: 'moto: exactly one /aws-access/ role per request in the account',
        ok: roles.length === n && ids.every((id) => roles.some((r) => r.RoleName === `aws-access-${id}`)),
        detail: `${roles.length} roles`,
      });
    }
    return {
      engine,
      template,
      grantDelayMs: options.grantDelayMs,
      requests: n,
      clicks: clickAcks.length + clickErrors,
      inFlightRequests,
      clickErrors,
      clickAck: summarize(clickAcks),
      clicksPerSecond: rate(clickAcks.length, stormEnd - stormStart),
      clickToDelivery: summarize(deliveries),
      settled: summarize(settled),
      grantsPerSecond: rate(deliveries.length, lastDelivery - stormStart),
      serviceCpuMs: stats.cpuUserMs + stats.cpuSystemMs,
      eventLoopDelayP99Ms: stats.eventLoopDelayP99Ms,
      checks,
    };
  } finally {
    await redis.quit().catch(() => redis.disconnect());
    await svc.stop();
    await responses.stop();
    await fake.stop();
    await infra.stop();
  }
}

export async function stormBench(): Promise<BenchResult> {
  const started = performance.now();
  const runs: StormRun[] = [];
  const plans = [
    { engine: 'recording' as const, requests: 25, inFlightRequests: 1, grantDelayMs: 150 },
    { engine: 'recording' as const, requests: 50, inFlightRequests: 5, grantDelayMs: 150 },
    { engine: 'moto' as const, requests: 10, inFlightRequests: 1 },
  ];
  for (const plan of plans) {
    const run = await runStorm(plan);
    runs.push(run);
    console.error(
      `  storm ${run.engine} ${run.requests}x${CLICKERS}, ${run.inFlightRequests} in flight: click p50/p99 ${ms(run.clickAck.p50)}/${ms(run.clickAck.p99)} ms, ` +
        `service CPU ${(run.serviceCpuMs / run.clicks).toFixed(1)} ms/click, loop p99 ${ms(run.eventLoopDelayP99Ms)} ms`,
    );
  }
  const checks = runs.flatMap((r) => r.checks);
  return benchResult({
    name: 'storm',
    title: 'Approval storm',
    started,
    sections: [
      table(
        [
          'grant engine',
          'requests × clicks',
          'storms in flight',
          'click ack p50 ms',
          'p95 ms',
          'p99 ms',
          'max ms',
          'clicks/s',
          'service CPU ms/click',
          'click → delivery p50 / p95 ms',
          'storm settled p50 / p95 ms',
          'grants/s',
        ],
        runs.map((r) => {
          const [p50, p95, p99, max] = latencyCells(r.clickAck);
          return [
            r.engine === 'recording'
              ? `recording (${r.grantDelayMs} ms per grant)`
              : `real engine on moto (\`${r.template}\`)`,
            `${r.requests} × ${CLICKERS}`,
            `${r.inFlightRequests} (${r.inFlightRequests * CLICKERS} concurrent clicks)`,
            p50!,
            p95!,
            p99!,
            max!,
            r.clicksPerSecond.toFixed(0),
            (r.serviceCpuMs / Math.max(1, r.clicks)).toFixed(1),
            `${ms(r.clickToDelivery.p50)} / ${ms(r.clickToDelivery.p95)}`,
            `${ms(r.settled.p50)} / ${ms(r.settled.p95)}`,
            r.grantsPerSecond.toFixed(1),
          ];
        }),
      ),
    ],
    checks,
    data: { clickers: CLICKERS, runs },
  });
}
