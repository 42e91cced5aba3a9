/**
 * 7. Time to access (issue #14): the approval click → the delivery DM, with IAM's propagation
 * delay simulated. The real service (web role, the real grant engine through the AWS SDK) talks
 * to moto through bench/support/iam-propagation.ts, which refuses AssumeRole of each new role
 * with AWS's AccessDenied until 4–10 s (random per role) after its CreateRole, and counts the
 * calls. Floor grants, interleaved in the same run and under the same load, have no delay.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { ASSUMABLE_WAIT } from '../src/aws/grants/assumable-wait.js';
import { IamPropagation, type PropagatingRole } from './support/iam-propagation.js';
import { startInfra } from './support/infra.js';
import { benchResult, table, type BenchResult, type Check } from './support/report.js';
import { startServiceProcess } from './support/service-client.js';
import {
  APPROVER1,
  approverMessages,
  clickApprove,
  REQUESTER,
  sendCommand,
  startSlack,
} from './support/slack-load.js';
import { ms, pool, runBounded, summarize, waitFor, type Summary } from './support/stats.js';

const GRANTS = 36;
/** Every third grant is a floor grant (no propagation delay). */
const FLOOR_EVERY = 3;
const CONCURRENCY = 6;
const DELAY_MIN_MS = 4000;
const DELAY_MAX_MS = 10_000;
const GOAL_OVER_DELAY_MS = 1000;
const TEMPLATE = 's3-data-reader';

interface GrantTiming {
  requestId: string;
  floor: boolean;
  delayMs: number;
  /** Approve click sent → the delivery DM at the fake Slack. */
  clickToDmMs: number;
  /** clickToDm − delay: the goal's figure. */
  overDelayMs: number;
  clickToCreateRoleMs: number;
  /** The role became assumable → the DM: how late the bot noticed, plus the DM itself. */
  assumableToDmMs: number;
  /** The role became assumable → the first AssumeRole that went through: the wait's own lag. */
  assumableToTryMs: number;
  stsCalls: number;
  refused: number;
}

const seconds = (v: number) => (v / 1000).toFixed(2);
const pair = (s: Summary) => `${ms(s.p50)} / ${ms(s.p95)} / ${ms(s.max)}`;

function summaryRow(label: string, grants: GrantTiming[], floorP50: number): Array<string | number> {
  const delays = grants.map((g) => g.delayMs);
  const clickToDm = summarize(grants.map((g) => g.clickToDmMs));
  const over = summarize(grants.map((g) => g.overDelayMs));
  const calls = summarize(grants.map((g) => g.stsCalls));
  // Per grant: click → DM over (its delay + the floor's p50 click → DM), the best the bot could do.
  const ratio = summarize(grants.map((g) => g.clickToDmMs / (g.delayMs + floorP50)));
  return [
    label,
    grants.length,
    delays.some((d) => d > 0)
      ? `${seconds(Math.min(...delays))}–${seconds(Math.max(...delays))} s`
      : '0 (floor)',
    pair(clickToDm),
    pair(over),
    pair(summarize(grants.map((g) => g.assumableToTryMs))),
    `${calls.p50} / ${calls.max} (${summarize(grants.map((g) => g.refused)).p50} refused)`,
    `${ratio.p50.toFixed(2)}× / ${ratio.max.toFixed(2)}×`,
  ];
}

export async function accessBench(): Promise<BenchResult> {
  const started = performance.now();
  const infra = await startInfra({ moto: true });
  const propagation = await new IamPropagation(infra.awsEndpointUrl!).start();
  const { fake, responses } = await startSlack();
  const prefix = `bench-access-${randomBytes(4).toString('hex')}`;
  const stops: Array<() => Promise<void>> = [
    () => infra.stop(),
    () => propagation.stop(),
    () => fake.stop(),
    () => responses.stop(),
  ];
  const checks: Check[] = [];
  const timings: GrantTiming[] = [];
  try {
    const svc = await startServiceProcess({
      redisUrl: infra.redisUrl,
      awsEndpointUrl: propagation.origin,
      slackApiUrl: fake.apiUrl,
      prefix,
      role: 'web',
      // One-line requests are created by the intake worker, in this process (no worker process).
      intakeInWebRole: true,
      engine: 'moto',
      realAssumableWait: true,
      maxOpenPerRequester: GRANTS + 1,
    });
    stops.unshift(() => svc.stop());
    const redis = new Redis(infra.redisUrl, { maxRetriesPerRequest: 2 });
    redis.on('error', (e) => console.error(`  [bench redis] ${String(e)}`));
    stops.unshift(() =>
      redis.quit().then(
        () => undefined,
        () => redis.disconnect(),
      ),
    );

    // The pending requests, each with its approver message; the first one warms the engine up
    // (broker session, boundary policy) and is not measured.
    await pool(
      Array.from({ length: GRANTS + 1 }, (_, i) => i),
      4,
      async (i) => {
        const res = await sendCommand(svc.baseUrl, `sbx ${TEMPLATE} 1h access ${i}`, responses.url(`a-${i}`));
        if (res.status !== 200) throw new Error(`command failed: HTTP ${res.status}`);
      },
    );
    const ready = await waitFor(() => approverMessages(fake).size > GRANTS || undefined, 30_000);
    if (!ready) throw new Error(`only ${approverMessages(fake).size} of ${GRANTS + 1} approver messages`);
    const [warmUp, ...messages] = [...approverMessages(fake).values()];
    const deliveryAt = (requestId: string) =>
      fake
        .callsTo('chat.postMessage')
        .find(
          (c) =>
            c.args.channel === REQUESTER &&
            JSON.stringify(c.args.blocks ?? '').includes(`aws-access-${requestId}`),
        )?.at;
    await clickApprove(svc.baseUrl, APPROVER1, warmUp!);
    if (!(await waitFor(() => deliveryAt(warmUp!.requestId), 30_000, 20))) {
      throw new Error('the warm-up grant was not delivered');
    }

    // Each role's delay is drawn now, by request id, and recorded; every third has none.
    const plan = messages.map((m, i) => {
      const floor = i % FLOOR_EVERY === FLOOR_EVERY - 1;
      const delayMs = floor ? 0 : Math.round(DELAY_MIN_MS + Math.random() * (DELAY_MAX_MS - DELAY_MIN_MS));
      propagation.plan(`aws-access-${m.requestId}`, delayMs);
      return { message: m, floor, delayMs };
    });
    const run = await runBounded({
      total: plan.length,
      concurrency: CONCURRENCY,
      maxMs: 120_000,
      task: async (i) => {
        const { message, floor, delayMs } = plan[i]!;
        const t0 = Date.now();
        const click = await clickApprove(svc.baseUrl, APPROVER1, message);
        if (click.status !== 200) throw new Error(`click on ${message.requestId}: HTTP ${click.status}`);
        const at = await waitFor(() => deliveryAt(message.requestId), 30_000, 10);
        if (!at) throw new Error(`no delivery DM for ${message.requestId} within 30 s`);
        const role: PropagatingRole = propagation.roles.get(`aws-access-${message.requestId}`)!;
        const assumableAt = role.assumableAt ?? Number.NaN;
        timings.push({
          requestId: message.requestId,
          floor,
          delayMs,
          clickToDmMs: at - t0,
          overDelayMs: at - t0 - delayMs,
          clickToCreateRoleMs: (role.createdAt ?? Number.NaN) - t0,
          assumableToDmMs: at - assumableAt,
          assumableToTryMs: (role.firstPassAt ?? Number.NaN) - assumableAt,
          stsCalls: role.refused + role.passed,
          refused: role.refused,
        });
        return at - t0;
      },
    });
    const states = await Promise.all(
      plan.map(({ message }) => redis.hget(`${prefix}:request:${message.requestId}`, 'state')),
    );

    const floor = timings.filter((t) => t.floor);
    const delayed = timings.filter((t) => !t.floor).sort((a, b) => a.delayMs - b.delayMs);
    const floorP50 = summarize(floor.map((t) => t.clickToDmMs)).p50;
    const over = summarize(delayed.map((t) => t.overDelayMs));
    checks.push({
      what: `every grant delivered by DM and active (${CONCURRENCY} grants in flight)`,
      ok: timings.length === plan.length && states.every((s) => s === 'active') && run.errors === 0,
      detail: `${timings.length}/${plan.length} delivered, ${states.filter((s) => s === 'active').length} active${run.firstError ? `; ${run.firstError}` : ''}`,
    });
    checks.push({
      what: `goal: click → DM p50 ≤ the delay + ${GOAL_OVER_DELAY_MS / 1000} s (role assumable ${DELAY_MIN_MS / 1000}–${DELAY_MAX_MS / 1000} s after CreateRole)`,
      ok: delayed.length > 0 && over.p50 <= GOAL_OVER_DELAY_MS,
      detail: `p50 ${ms(over.p50)} ms over the delay, p95 ${ms(over.p95)} ms, max ${ms(over.max)} ms; floor click → DM p50 ${ms(floorP50)} ms`,
    });
    checks.push({
      what: 'no delivery before the role was assumable; every delayed role was refused at least once',
      ok: delayed.every((t) => t.assumableToDmMs >= 0 && t.refused >= 1),
      detail: `earliest DM ${ms(Math.min(...delayed.map((t) => t.assumableToDmMs)))} ms after the role became assumable`,
    });
    // The schedule's bound: one try at once, then at most one per 750 ms (the shortest jittered
    // pause at the cap) counted from the click, which comes before the CreateRole.
    const callBound = (t: GrantTiming) =>
      2 +
      Math.ceil((t.delayMs + t.clickToCreateRoleMs) / (ASSUMABLE_WAIT.capMs * (1 - ASSUMABLE_WAIT.jitter)));
    checks.push({
      what: 'the wait does not hammer STS: AssumeRole calls per grant within the schedule’s bound; one for a floor grant',
      ok: delayed.every((t) => t.stsCalls <= callBound(t)) && floor.every((t) => t.stsCalls === 1),
      detail: `delayed: ${summarize(delayed.map((t) => t.stsCalls)).p50} calls per grant at p50, max ${Math.max(...delayed.map((t) => t.stsCalls))}; floor: ${floor.map((t) => t.stsCalls).join(', ')}`,
    });
    console.error(
      `  access: ${delayed.length} delayed grants: over the delay p50 ${ms(over.p50)} ms; floor p50 ${ms(floorP50)} ms; ` +
        `AssumeRole calls p50 ${summarize(delayed.map((t) => t.stsCalls)).p50}`,
    );

    const sections = [
      table(
        [
          'grants',
          'n',
          'IAM propagation delay',
          'click → DM p50 / p95 / max ms',
          'click → DM − delay p50 / p95 / max ms',
          'role assumable → first try through p50 / p95 / max ms',
          'AssumeRole calls per grant p50 / max',
          'click → DM ÷ (delay + floor p50) p50 / max',
        ],
        [
          summaryRow('no propagation delay (floor)', floor, floorP50),
          summaryRow(
            `assumable ${DELAY_MIN_MS / 1000}–${DELAY_MAX_MS / 1000} s after CreateRole`,
            delayed,
            floorP50,
          ),
        ],
      ),
      '',
      `Per grant with a delay (sorted by delay), ${CONCURRENCY} grants in flight, floor grants interleaved; the floor's click → DM p50 is ${ms(floorP50)} ms.`,
      '',
      table(
        [
          'delay s',
          'click → DM s',
          'click → DM − delay ms',
          'click → CreateRole ms',
          'assumable → DM ms',
          'AssumeRole calls (refused)',
        ],
        delayed.map((t) => [
          seconds(t.delayMs),
          seconds(t.clickToDmMs),
          ms(t.overDelayMs),
          ms(t.clickToCreateRoleMs),
          ms(t.assumableToDmMs),
          `${t.stsCalls} (${t.refused})`,
        ]),
      ),
    ];
    return benchResult({
      name: 'access',
      title: 'Time to access',
      started,
      sections,
      checks,
      data: {
        grants: plan.length,
        concurrency: CONCURRENCY,
        delayRangeMs: [DELAY_MIN_MS, DELAY_MAX_MS],
        schedule: ASSUMABLE_WAIT,
        floorP50Ms: floorP50,
        otherAssumeRoles: propagation.otherAssumeRoles,
        timings,
      },
    });
  } finally {
    for (const stop of stops)
      await stop().catch((e: unknown) => console.error(`  [bench stop] ${String(e)}`));
  }
}
