/**
 * 1. Slash-command ack latency through the real Bolt HTTP receiver: signed `/aws-access help`
 * (answered in the ack) and a full one-line request (acked at once, the request created after
 * the ack and confirmed on the response_url), at concurrency 1, 10 and 50.
 */
import { randomBytes } from 'node:crypto';
import { startInfra } from './support/infra.js';
import {
  benchResult,
  latencyCells,
  latencyHeader,
  table,
  type BenchResult,
  type Check,
} from './support/report.js';
import { startServiceProcess } from './support/service-client.js';
import { sendCommand, startSlack } from './support/slack-load.js';
import { ms, rate, runBounded, summarize, waitFor, type Summary } from './support/stats.js';

const CONCURRENCY = [1, 10, 50];
const TOTAL = 500;
const CELL_MAX_MS = 25_000;
const SLACK_ACK_LIMIT_MS = 3000;
const SEQUENTIAL = 50;

interface Cell {
  kind: 'help' | 'request';
  concurrency: number;
  sent: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
  throughput: number;
  ack: Summary;
  /** request: from sending the command to the confirmation on its response_url. */
  completion?: Summary;
  completed?: number;
  /** request: confirmations per second, first command sent → last confirmation. */
  completionRate?: number;
  serviceCpuMsPerRequest: number;
  eventLoopDelayP99Ms: number;
}

export async function ackBench(): Promise<BenchResult> {
  const started = performance.now();
  const infra = await startInfra({ moto: false });
  const { fake, responses } = await startSlack();
  const svc = await startServiceProcess({
    redisUrl: infra.redisUrl,
    slackApiUrl: fake.apiUrl,
    prefix: `bench-ack-${randomBytes(4).toString('hex')}`,
    role: 'web',
    engine: 'recording',
  });
  const cells: Cell[] = [];
  let sequential: Summary | undefined;
  try {
    const texts = {
      help: () => 'help',
      request: (tag: string) => `sbx readonly 1h bench load ${tag}`,
    };
    for (const kind of ['help', 'request'] as const) {
      // Warm-up (JIT, connection pools, Lua script loading); not measured.
      await runBounded({
        total: 30,
        concurrency: 5,
        maxMs: 10_000,
        task: async (i) =>
          (await sendCommand(svc.baseUrl, texts[kind](`w${i}`), responses.url(`warm-${kind}-${i}`)))
            .elapsedMs,
      });
      await waitFor(() => kind === 'help' || responses.byId.size >= 30, 10_000);
      if (kind === 'request') {
        // Unloaded end to end: one request at a time, each waiting for its confirmation.
        const seq = await runBounded({
          total: SEQUENTIAL,
          concurrency: 1,
          maxMs: 20_000,
          task: async (i) => {
            const id = `seq-${i}`;
            const t0 = Date.now();
            await sendCommand(svc.baseUrl, texts.request(id), responses.url(id));
            const reply = await waitFor(() => responses.byId.get(id)?.[0], 5000, 2);
            if (!reply) throw new Error(`no confirmation for ${id}`);
            return reply.at - t0;
          },
        });
        sequential = summarize(seq.latencies);
      }
      for (const concurrency of CONCURRENCY) {
        await svc.stats(true);
        const sentAt = new Map<string, number>();
        const result = await runBounded({
          total: TOTAL,
          concurrency,
          maxMs: CELL_MAX_MS,
          task: async (i) => {
            const id = `${kind}-c${concurrency}-${i}`;
            sentAt.set(id, Date.now());
            const res = await sendCommand(svc.baseUrl, texts[kind](id), responses.url(id));
            if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.text.slice(0, 200)}`);
            const text = String((res.json as { text?: string } | undefined)?.text ?? '');
            if (kind === 'help' ? !text.includes('aws-access') : !text.includes('Checking')) {
              throw new Error(`unexpected ack body: ${res.text.slice(0, 200)}`);
            }
            return res.elapsedMs;
          },
        });
        let completion: Summary | undefined;
        let completed: number | undefined;
        let completionRate: number | undefined;
        if (kind === 'request') {
          const ids = [...sentAt.keys()];
          // The confirmation arrives after the request is stored and the approver message posted.
          await waitFor(() => ids.every((id) => responses.byId.has(id)), 30_000, 100);
          const times = ids.flatMap((id) => {
            const reply = responses.byId.get(id)?.find((r) => r.text.includes('sent to the approvers'));
            return reply ? [reply.at - sentAt.get(id)!] : [];
          });
          completion = summarize(times);
          completed = times.length;
          const last = Math.max(...ids.map((id) => responses.byId.get(id)?.[0]?.at ?? 0));
          completionRate = rate(completed, last - Math.min(...sentAt.values()));
        }
        const stats = await svc.stats(true);
        cells.push({
          kind,
          concurrency,
          sent: result.completed + result.errors,
          errors: result.errors,
          firstError: result.firstError,
          elapsedMs: result.elapsedMs,
          throughput: rate(result.completed, result.elapsedMs),
          ack: summarize(result.latencies),
          completion,
          completed,
          completionRate,
          serviceCpuMsPerRequest: (stats.cpuUserMs + stats.cpuSystemMs) / Math.max(1, result.completed),
          eventLoopDelayP99Ms: stats.eventLoopDelayP99Ms,
        });
        console.error(
          `  ack ${kind} c=${concurrency}: n=${result.completed} p50=${ms(summarize(result.latencies).p50)} p99=${ms(summarize(result.latencies).p99)} errors=${result.errors}`,
        );
      }
    }
  } finally {
    await svc.stop();
    await responses.stop();
    await fake.stop();
    await infra.stop();
  }

  const checks: Check[] = [];
  for (const c of cells) {
    checks.push({
      what: `${c.kind} at concurrency ${c.concurrency}: every ack 200 and under Slack's 3 s`,
      ok: c.errors === 0 && c.sent === TOTAL && c.ack.max < SLACK_ACK_LIMIT_MS,
      detail: `${c.sent - c.errors}/${TOTAL} ok, max ${ms(c.ack.max)} ms${c.firstError ? `, first error: ${c.firstError}` : ''}`,
    });
    if (c.kind === 'request') {
      checks.push({
        what: `request at concurrency ${c.concurrency}: every request confirmed on its response_url`,
        ok: c.completed === c.sent,
        detail: `${c.completed}/${c.sent}`,
      });
    }
  }
  return benchResult({
    name: 'ack',
    title: 'Slash-command ack latency',
    started,
    sections: [
      table(
        [
          'command',
          'concurrency',
          'requests',
          ...latencyHeader,
          'req/s',
          'service CPU ms/req',
          'event-loop p99 ms',
        ],
        cells.map((c) => [
          c.kind === 'help' ? '`help`' : 'one-line request',
          c.concurrency,
          c.sent,
          ...latencyCells(c.ack),
          c.throughput.toFixed(0),
          c.serviceCpuMsPerRequest.toFixed(2),
          ms(c.eventLoopDelayP99Ms),
        ]),
      ),
      '',
      'Request completed: command sent → "sent to the approvers" on its response_url (request checked against the policy, stored, approver message posted, pending timers scheduled). ' +
        `The first row sends one command at a time and waits for its confirmation (${SEQUENTIAL} requests); ` +
        'the others are the ack runs above, whose commands are acked faster than the work behind them finishes, so their completion times include the backlog.',
      '',
      table(
        ['load', 'completed', ...latencyHeader, 'completed/s'],
        [
          ...(sequential ? [['one at a time', sequential.n, ...latencyCells(sequential), '']] : []),
          ...cells
            .filter((c) => c.completion)
            .map((c) => [
              `concurrency ${c.concurrency}`,
              c.completed ?? 0,
              ...latencyCells(c.completion!),
              (c.completionRate ?? 0).toFixed(0),
            ]),
        ],
      ),
    ],
    checks,
    data: { total: TOTAL, cellMaxMs: CELL_MAX_MS, sequential, cells },
  });
}
