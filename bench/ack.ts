/**
 * 1. Slash-command ack latency through the real Bolt HTTP receiver, beside its floor.
 *
 * Three targets, each in its own Node process, driven by one signed-request load generator:
 * - bare Bolt: a Bolt App on the same HTTPReceiver setup whose `/aws-access` listener only acks
 *   (bench/support/bare-bolt-process.ts): the floor;
 * - `/aws-access help` on the service (answered in the ack);
 * - a one-line request `/aws-access sbx readonly 1h <reason>` on the service (acked at once and
 *   handed to the intake job; a worker-role process checks, stores, posts it to the approvers
 *   and schedules its pending timers, then confirms it on the response_url).
 *
 * The service runs as in production: a web-role process (the target) and a worker-role process
 * on the same Redis. CPU per request is reported for each and in total.
 *
 * At concurrency 1, 16 and 64, in interleaved rounds (the target order rotates each round), so
 * whatever else loads the machine hits all three alike; figures are reported as ratios to bare
 * Bolt measured in the same run. Service CPU per request is the child's own `process.cpuUsage`
 * over a cell, read after every request of the cell has been confirmed (the follow-up work
 * included). Each request comes from its own person (mapped to AWS by e-mail), as in a real
 * workspace, so the open-request limit never refuses one.
 */
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startBareBoltProcess } from './support/bare-bolt-client.js';
import { startInfra } from './support/infra.js';
import {
  benchResult,
  latencyCells,
  latencyHeader,
  table,
  type BenchResult,
  type Check,
} from './support/report.js';
import { startServiceProcess, type ServiceHandle } from './support/service-client.js';
import { startSlackProcess, type SlackHandle } from './support/slack-client.js';
import { sendCommand } from './support/slack-load.js';
import { ms, rate, runBounded, summarize, type Summary } from './support/stats.js';
import { createRedis } from '../src/store/redis-connection.js';
import { slackFetch } from '../src/slack/slack-fetch.js';

const CONCURRENCY = [1, 16, 64] as const;
const ROUNDS = 5;
/** Commands per target per cell (one concurrency in one round). */
const PER_CELL: Record<(typeof CONCURRENCY)[number], number> = { 1: 120, 16: 240, 64: 320 };
const WARM_UP = 200;
const SEQUENTIAL = 50;
const CELL_MAX_MS = 30_000;
const COMPLETION_MAX_MS = 60_000;
const SLACK_ACK_LIMIT_MS = 3000;

/** The goals of issue #14. */
const GOAL = { p99VsBare: 2, helpThroughputVsBare: 0.8, requestCpuMs: 2 };

type Target = 'bare' | 'bareReplay' | 'help' | 'request';
const TARGETS: readonly Target[] = ['bare', 'bareReplay', 'help', 'request'];
/** The floors: they ack with an empty body and are never held to the goals. */
const isFloor = (target: Target) => target === 'bare' || target === 'bareReplay';
const LABEL: Record<Target, string> = {
  bare: 'bare Bolt (ack only)',
  bareReplay: 'bare Bolt + replay check (one Redis SET NX)',
  help: '`help`',
  request: 'one-line request',
};

interface Cell {
  target: Target;
  concurrency: number;
  round: number;
  sent: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
  latencies: number[];
  cpuMs: number;
  /** The worker-role process's CPU over the cell (the service targets). */
  workerCpuMs: number;
  eventLoopDelayP99Ms: number;
  /** request: command sent → "sent to the approvers" on its response_url. */
  completions?: number[];
  /** request: first command sent → last confirmation. */
  completionSpanMs?: number;
  /** Event-loop delay of the load generator itself during the cell. */
  generatorLoopP99Ms: number;
}

interface Row {
  target: Target;
  concurrency: number;
  sent: number;
  errors: number;
  firstError?: string;
  ack: Summary;
  throughput: number;
  cpuMsPerRequest: number;
  workerCpuMsPerRequest: number;
  eventLoopDelayP99Ms: number;
  generatorLoopP99Ms: number;
  completion?: Summary;
  completed?: number;
  completionRate?: number;
  /** p99 of each round divided by bare Bolt's p99 of the same round. */
  roundP99Ratios: number[];
  /** Throughput of each round divided by bare Bolt's throughput in the same round. */
  roundThroughputRatios: number[];
}

/**
 * Round trips of a one-line request besides its ack. Slack: users.info, the approver message, the
 * requester's DM, the response_url. Redis: the replay guard's SET, the open-request count, the
 * create script, the audit append, the approver-message annotation, the three timers in one
 * MULTI (the audit-batch job is added once per 5-second window, not per request). Not counted:
 * the intake job's add (web) and BullMQ's fetch and completion of it (worker).
 */
const REQUEST_ROUND_TRIPS = { slack: 4, redis: 6 };

interface RoundTripFloor {
  /** CPU ms of one ioredis command round trip (SET), one at a time. */
  redisMs: number;
  /** CPU ms of one Slack Web API POST through slackFetch (users.info on the fake), one at a time. */
  slackMs: number;
}

/** CPU per round trip in this (the generator's) process, with nothing else of the bench running. */
async function roundTripFloor(redisUrl: string, slackApiUrl: string): Promise<RoundTripFloor> {
  const redis = createRedis(redisUrl);
  const cpuPerCall = async (count: number, call: () => Promise<unknown>) => {
    for (let i = 0; i < 100; i++) await call();
    const before = process.cpuUsage();
    for (let i = 0; i < count; i++) await call();
    const used = process.cpuUsage(before);
    return (used.user + used.system) / 1000 / count;
  };
  try {
    const redisMs = await cpuPerCall(2000, () => redis.set('bench-ack-floor', '1'));
    const slackMs = await cpuPerCall(1000, async () =>
      (
        await slackFetch(`${slackApiUrl}users.info`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'user=U0REQUESTER',
        })
      ).json(),
    );
    return { redisMs, slackMs };
  } finally {
    redis.disconnect();
  }
}

let nextPerson = 0;
/** A requester id of its own for every request; the fake Slack knows them all (see below). */
const person = (n: number) => `U0B${n.toString(36).toUpperCase().padStart(6, '0')}`;

export async function ackBench(): Promise<BenchResult> {
  const started = performance.now();
  const infra = await startInfra({ moto: false });
  const requestsNeeded =
    WARM_UP + SEQUENTIAL + ROUNDS * CONCURRENCY.reduce((sum, c) => sum + PER_CELL[c], 0) + 100;
  let slack: SlackHandle | undefined;
  let bare: ServiceHandle | undefined;
  let bareReplay: ServiceHandle | undefined;
  let svc: ServiceHandle | undefined;
  let worker: ServiceHandle | undefined;
  const cells: Cell[] = [];
  let sequential: Summary | undefined;
  let floor: RoundTripFloor | undefined;
  /** Answers on the response_url other than the confirmation, and how often (none expected). */
  const otherAnswers = new Map<string, number>();
  const generatorLoop = monitorEventLoopDelay({ resolution: 10 });
  generatorLoop.enable();
  try {
    slack = await startSlackProcess(
      Array.from({ length: requestsNeeded }, (_, i) => ({
        id: person(i),
        email: `bench-${i}@example.com`,
        real_name: `Bench Person ${i}`,
      })),
    );
    const responses = slack;
    bare = await startBareBoltProcess();
    bareReplay = await startBareBoltProcess('/aws-access', infra.redisUrl);
    const service = {
      redisUrl: infra.redisUrl,
      slackApiUrl: slack.apiUrl,
      prefix: `bench-ack-${randomBytes(4).toString('hex')}`,
      engine: 'recording',
      requestersByEmail: true,
    } as const;
    svc = await startServiceProcess({ ...service, role: 'web' });
    // The intake jobs (and every other job) run here, as in a web + worker deployment.
    worker = await startServiceProcess({ ...service, role: 'worker' });
    const handleOf = (target: Target) =>
      target === 'bare' ? bare! : target === 'bareReplay' ? bareReplay! : svc!;
    const urlOf = (target: Target) => handleOf(target).baseUrl;

    /** Sends one command of `target`; resolves with its ack latency once the ack is checked. */
    const sendOne = async (target: Target, id: string): Promise<number> => {
      const text = target === 'request' ? `sbx readonly 1h bench load ${id}` : 'help';
      const userId = target === 'request' ? person(nextPerson++) : undefined;
      const res = await sendCommand(urlOf(target), text, responses.responseUrl(id), userId);
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.text.slice(0, 200)}`);
      const ackText = String((res.json as { text?: string } | undefined)?.text ?? '');
      const expected = isFloor(target) ? '' : target === 'help' ? 'aws-access' : 'Checking';
      if (isFloor(target) ? res.text !== '' : !ackText.includes(expected)) {
        throw new Error(`unexpected ack body: ${res.text.slice(0, 200)}`);
      }
      return res.elapsedMs;
    };

    // Warm-up (JIT, connection pools, Lua script loading): every target, not measured.
    for (const target of TARGETS) {
      const ids: string[] = [];
      await runBounded({
        total: WARM_UP,
        concurrency: 16,
        maxMs: CELL_MAX_MS,
        task: async (i) => {
          const id = `warm-${target}-${i}`;
          ids.push(id);
          return sendOne(target, id);
        },
      });
      if (target === 'request') await responses.replies(ids, COMPLETION_MAX_MS);
    }

    // Unloaded end to end: one request at a time, each waiting for its confirmation.
    const seq = await runBounded({
      total: SEQUENTIAL,
      concurrency: 1,
      maxMs: CELL_MAX_MS,
      task: async (i) => {
        const id = `seq-${i}`;
        const t0 = Date.now();
        await sendOne('request', id);
        const [reply] = await responses.replies([id], 5000);
        if (!reply) throw new Error(`no confirmation for ${id}`);
        return reply.at - t0;
      },
    });
    sequential = summarize(seq.latencies);

    for (let round = 0; round < ROUNDS; round++) {
      for (const concurrency of CONCURRENCY) {
        // Rotate the order so no target always runs first (or right after the request cell).
        const order = TARGETS.map((_, i) => TARGETS[(i + round + concurrency) % TARGETS.length]!);
        for (const target of order) {
          const handle = handleOf(target);
          await handle.stats(true);
          await worker.stats(true);
          generatorLoop.reset();
          const sentAt = new Map<string, number>();
          const total = PER_CELL[concurrency];
          const result = await runBounded({
            total,
            concurrency,
            maxMs: CELL_MAX_MS,
            task: async (i) => {
              const id = `${target}-r${round}-c${concurrency}-${i}`;
              sentAt.set(id, Date.now());
              return sendOne(target, id);
            },
          });
          const generatorLoopP99Ms = generatorLoop.percentile(99) / 1e6;
          let completions: number[] | undefined;
          let completionSpanMs: number | undefined;
          if (target === 'request') {
            const ids = [...sentAt.keys()];
            // The one answer each request gets on its response_url (confirmation or refusal).
            const replies = await responses.replies(ids, COMPLETION_MAX_MS);
            completions = [];
            replies.forEach((reply, i) => {
              if (reply?.text.includes('sent to the approvers')) {
                completions!.push(reply.at - sentAt.get(ids[i]!)!);
              } else {
                const text = reply?.text ?? '(none)';
                otherAnswers.set(text, (otherAnswers.get(text) ?? 0) + 1);
              }
            });
            const last = Math.max(...replies.map((r) => r?.at ?? 0));
            completionSpanMs = last - Math.min(...sentAt.values());
          }
          const stats = await handle.stats(true);
          const workerStats = await worker.stats(true);
          cells.push({
            target,
            concurrency,
            round,
            sent: result.completed + result.errors,
            errors: result.errors,
            firstError: result.firstError,
            elapsedMs: result.elapsedMs,
            latencies: result.latencies,
            cpuMs: stats.cpuUserMs + stats.cpuSystemMs,
            workerCpuMs: isFloor(target) ? 0 : workerStats.cpuUserMs + workerStats.cpuSystemMs,
            eventLoopDelayP99Ms: stats.eventLoopDelayP99Ms,
            completions,
            completionSpanMs,
            generatorLoopP99Ms,
          });
          const s = summarize(result.latencies);
          console.error(
            `  ack round ${round + 1} c=${concurrency} ${target}: n=${result.completed} p50=${ms(s.p50)} p99=${ms(s.p99)} ` +
              `req/s=${rate(result.completed, result.elapsedMs).toFixed(0)} cpu ms/req=${((stats.cpuUserMs + stats.cpuSystemMs) / Math.max(1, result.completed)).toFixed(2)} worker cpu ms/req=${((workerStats.cpuUserMs + workerStats.cpuSystemMs) / Math.max(1, result.completed)).toFixed(2)} generator loop p99=${ms(generatorLoopP99Ms)} errors=${result.errors}`,
          );
        }
      }
    }
    // What the round trips of a one-line request cost by themselves on this machine, measured
    // here after the rounds (nothing else of the bench running): the floor under its CPU.
    await svc.stop();
    await worker.stop();
    floor = await roundTripFloor(infra.redisUrl, slack.apiUrl);
  } finally {
    generatorLoop.disable();
    await svc?.stop();
    await worker?.stop();
    await bare?.stop();
    await bareReplay?.stop();
    await slack?.stop();
    await infra.stop();
  }

  const rows: Row[] = [];
  for (const concurrency of CONCURRENCY) {
    for (const target of TARGETS) {
      const mine = cells.filter((c) => c.target === target && c.concurrency === concurrency);
      const ok = mine.reduce((n, c) => n + c.latencies.length, 0);
      const completions = mine.flatMap((c) => c.completions ?? []);
      rows.push({
        target,
        concurrency,
        sent: mine.reduce((n, c) => n + c.sent, 0),
        errors: mine.reduce((n, c) => n + c.errors, 0),
        firstError: mine.find((c) => c.firstError)?.firstError,
        ack: summarize(mine.flatMap((c) => c.latencies)),
        throughput: rate(
          ok,
          mine.reduce((t, c) => t + c.elapsedMs, 0),
        ),
        cpuMsPerRequest: mine.reduce((t, c) => t + c.cpuMs, 0) / Math.max(1, ok),
        workerCpuMsPerRequest: mine.reduce((t, c) => t + c.workerCpuMs, 0) / Math.max(1, ok),
        eventLoopDelayP99Ms: Math.max(...mine.map((c) => c.eventLoopDelayP99Ms)),
        generatorLoopP99Ms: Math.max(...mine.map((c) => c.generatorLoopP99Ms)),
        ...(target === 'request'
          ? {
              completion: summarize(completions),
              completed: completions.length,
              completionRate: rate(
                completions.length,
                mine.reduce((t, c) => t + (c.completionSpanMs ?? 0), 0),
              ),
            }
          : {}),
        roundP99Ratios: mine.map((c) => {
          const floor = cells.find(
            (b) => b.target === 'bare' && b.concurrency === concurrency && b.round === c.round,
          );
          return floor ? summarize(c.latencies).p99 / summarize(floor.latencies).p99 : Number.NaN;
        }),
        roundThroughputRatios: mine.map((c) => {
          const floor = cells.find(
            (b) => b.target === 'bare' && b.concurrency === concurrency && b.round === c.round,
          );
          return floor
            ? rate(c.latencies.length, c.elapsedMs) / rate(floor.latencies.length, floor.elapsedMs)
            : Number.NaN;
        }),
      });
    }
  }
  const bareRow = (c: number) => rows.find((r) => r.target === 'bare' && r.concurrency === c)!;
  const replayRow = (c: number) => rows.find((r) => r.target === 'bareReplay' && r.concurrency === c)!;
  const p99Ratio = (r: Row) => r.ack.p99 / bareRow(r.concurrency).ack.p99;
  const tputRatio = (r: Row) => r.throughput / bareRow(r.concurrency).throughput;
  const replayTputRatio = (r: Row) => r.throughput / replayRow(r.concurrency).throughput;
  const x = (v: number) => `${v.toFixed(2)}×`;
  const median = (values: number[]) => summarize(values).p50;

  const checks: Check[] = [];
  const floorMs = (bareMs: number, f: RoundTripFloor) =>
    bareMs + REQUEST_ROUND_TRIPS.slack * f.slackMs + REQUEST_ROUND_TRIPS.redis * f.redisMs;
  for (const r of rows) {
    const expected = ROUNDS * PER_CELL[r.concurrency as (typeof CONCURRENCY)[number]];
    checks.push({
      what: `${LABEL[r.target]} at concurrency ${r.concurrency}: every ack 200 and under Slack's 3 s`,
      ok: r.errors === 0 && r.sent === expected && r.ack.max < SLACK_ACK_LIMIT_MS,
      detail: `${r.sent - r.errors}/${expected} ok, max ${ms(r.ack.max)} ms${r.firstError ? `, first error: ${r.firstError}` : ''}`,
    });
  }
  for (const r of rows.filter((r) => r.target === 'request')) {
    checks.push({
      what: `one-line request at concurrency ${r.concurrency}: every request confirmed on its response_url`,
      ok: r.completed === r.sent,
      detail: `${r.completed}/${r.sent}${otherAnswers.size ? `; other answers: ${JSON.stringify(Object.fromEntries(otherAnswers)).slice(0, 400)}` : ''}`,
    });
  }
  for (const r of rows.filter((r) => !isFloor(r.target))) {
    checks.push({
      what: `${LABEL[r.target]} at concurrency ${r.concurrency}: p99 ≤ ${GOAL.p99VsBare}× bare Bolt`,
      ok: p99Ratio(r) <= GOAL.p99VsBare,
      detail: `${ms(r.ack.p99)} ms vs ${ms(bareRow(r.concurrency).ack.p99)} ms: ${x(p99Ratio(r))}; per round ${r.roundP99Ratios.map(x).join(', ')} (median ${x(median(r.roundP99Ratios))})`,
    });
  }
  for (const r of rows.filter((r) => r.target === 'help')) {
    checks.push({
      what: `\`help\` at concurrency ${r.concurrency}: throughput ≥ ${GOAL.helpThroughputVsBare}× bare Bolt`,
      ok: tputRatio(r) >= GOAL.helpThroughputVsBare,
      detail: `${r.throughput.toFixed(0)} vs ${bareRow(r.concurrency).throughput.toFixed(0)} req/s: ${x(tputRatio(r))}; per round ${r.roundThroughputRatios.map(x).join(', ')} (median ${x(median(r.roundThroughputRatios))}); vs bare Bolt + the replay check's Redis SET (${replayRow(r.concurrency).throughput.toFixed(0)} req/s): ${x(replayTputRatio(r))}`,
    });
  }
  for (const r of rows.filter((r) => r.target === 'request')) {
    const total = r.cpuMsPerRequest + r.workerCpuMsPerRequest;
    checks.push({
      what: `one-line request at concurrency ${r.concurrency}: service CPU (web + worker) ≤ ${GOAL.requestCpuMs} ms per request, follow-up work included`,
      ok: total <= GOAL.requestCpuMs,
      detail: `${total.toFixed(2)} ms = web ${r.cpuMsPerRequest.toFixed(2)} + worker ${r.workerCpuMsPerRequest.toFixed(2)} ms (bare Bolt: ${bareRow(r.concurrency).cpuMsPerRequest.toFixed(2)} ms${floor ? `; floor of bare Bolt + the request's round trips: ${floorMs(bareRow(r.concurrency).cpuMsPerRequest, floor).toFixed(2)} ms` : ''})`,
    });
  }

  return benchResult({
    name: 'ack',
    title: 'Slash-command ack latency, beside bare Bolt',
    started,
    sections: [
      `${ROUNDS} interleaved rounds; per round and concurrency ${CONCURRENCY.map((c) => `${PER_CELL[c]}`).join(' / ')} commands per target at concurrency ${CONCURRENCY.join(' / ')}. ` +
        'Ratios are to bare Bolt at the same concurrency in the same run. CPU ms/req is the target process’s own CPU time over the cell divided by its requests (for the one-line request, read after every request was confirmed, so the work after the ack is included); the service is a web-role process (the target) and a worker-role process, whose CPU over the same cell is the worker column (the intake jobs: everything after the ack).',
      '',
      table(
        [
          'target',
          'concurrency',
          'requests',
          ...latencyHeader,
          'p99 vs bare',
          'req/s',
          'req/s vs bare',
          'req/s vs bare + replay check',
          'CPU ms/req',
          'worker CPU ms/req',
          'event-loop p99 ms',
        ],
        rows.map((r) => [
          LABEL[r.target],
          r.concurrency,
          r.sent,
          ...latencyCells(r.ack),
          r.target === 'bare' ? '1×' : x(p99Ratio(r)),
          r.throughput.toFixed(0),
          r.target === 'bare' ? '1×' : x(tputRatio(r)),
          r.target === 'bareReplay' ? '1×' : x(replayTputRatio(r)),
          r.cpuMsPerRequest.toFixed(2),
          isFloor(r.target) ? '' : r.workerCpuMsPerRequest.toFixed(2),
          ms(r.eventLoopDelayP99Ms),
        ]),
      ),
      '',
      ...(floor
        ? [
            `Round-trip floor, measured after the rounds in the load generator's process: one Slack Web API POST (keep-alive \`node:http\`, the fake Slack in its own process) costs ${floor.slackMs.toFixed(3)} ms of CPU, one Redis command ${floor.redisMs.toFixed(3)} ms. ` +
              `A one-line request makes ${REQUEST_ROUND_TRIPS.slack} Slack calls and ${REQUEST_ROUND_TRIPS.redis} Redis round trips besides its ack, so its CPU cannot go below bare Bolt + ${(REQUEST_ROUND_TRIPS.slack * floor.slackMs + REQUEST_ROUND_TRIPS.redis * floor.redisMs).toFixed(2)} ms here.`,
            '',
          ]
        : []),
      'Request completed: command sent → "sent to the approvers" on its response_url (request checked against the policy, stored, audited, approver message posted, pending timers scheduled, requester DM sent). ' +
        `The first row sends one command at a time and waits for its confirmation (${SEQUENTIAL} requests); ` +
        'the others are the ack runs above, whose commands are acked faster than the work behind them finishes, so their completion times include the backlog.',
      '',
      table(
        ['load', 'completed', ...latencyHeader, 'completed/s'],
        [
          ...(sequential ? [['one at a time', sequential.n, ...latencyCells(sequential), '']] : []),
          ...rows
            .filter((r) => r.completion)
            .map((r) => [
              `concurrency ${r.concurrency}`,
              r.completed ?? 0,
              ...latencyCells(r.completion!),
              (r.completionRate ?? 0).toFixed(0),
            ]),
        ],
      ),
    ],
    checks,
    data: {
      rounds: ROUNDS,
      perCell: PER_CELL,
      goal: GOAL,
      floor,
      requestRoundTrips: REQUEST_ROUND_TRIPS,
      sequential,
      rows,
      cells: cells.map(({ latencies, completions, ...rest }) => ({
        ...rest,
        ack: summarize(latencies),
        ...(completions ? { completion: summarize(completions) } : {}),
      })),
    },
  });
}
