/**
 * SIGTERM during a storm, with real processes (issue #13, graceful shutdown).
 *
 * Web: `start --role web` as a child process, a burst of signed one-line request commands,
 * SIGTERM in the middle. /readyz turns 503 before the process exits, no request is answered 5xx
 * or cut after its headers, the process exits 0 within its --shutdown-timeout, and every command
 * that got a 2xx has its intake job queued: a worker process started afterwards stores each
 * request and posts its approver message (the web role creates none itself, see
 * jobs/intake-worker.ts).
 *
 * Worker: revoke jobs stuck in DeleteRole when SIGTERM arrives and the shutdown deadline passes.
 * The jobs go back to `wait` (none left active and locked) and a new worker process, whose lock
 * duration would make a stalled-job recovery take at least 30 s, revokes every grant at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { QueueName, queuePrefix } from '../../src/jobs/queues.js';
import { RedisRequestStore } from '../../src/store/request-store.js';
import { TEST_BOT_TOKEN } from '../support/app-harness.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import {
  activeGrant,
  auditEvents,
  revokedEvents,
  roleExists,
  startLifecycleApp,
  TEMPLATES_DIR,
  type LifecycleApp,
} from '../support/grant-lifecycle.js';
import { freePort } from '../support/local-servers.js';
import { awsEndpointUrl, redisUrl, resetMoto, TEST_CONFIG_FILE, uniquePrefix } from '../support/services.js';
import { REQUESTER, seedPeople, waitUntil } from '../support/slack-flow.js';
import { postToSlackEvents, slashCommandBody, TEST_SIGNING_SECRET } from '../support/slack-request.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'src/cli.ts');
const WORKER_SCRIPT = path.join(ROOT, 'test/support/grant-worker-process.ts');

interface Child {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; at: number }>;
}

/** `node --import tsx`, not the tsx CLI, so the signal reaches the service process itself. */
function spawnNode(args: string[], env: Record<string, string>): Child {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.on('exit', (code) => resolve({ code, at: performance.now() })),
  );
  return { child, output: () => output, exited };
}

const children: Child[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  }
});

describe('SIGTERM on the web role during a burst of Slack requests', () => {
  let fake: FakeSlack | undefined;
  let redis: Redis | undefined;
  afterEach(async () => {
    await fake?.stop();
    await redis?.quit();
  });

  it('goes unready first, queues every acked request for the workers, and exits 0 in time', async () => {
    fake = await startFakeSlack();
    seedPeople(fake);
    const prefix = uniquePrefix('gs');
    const dir = mkdtempSync(path.join(tmpdir(), 'aab-gs-'));
    const config = path.join(dir, 'config.yaml');
    writeFileSync(
      config,
      `${readFileSync(TEST_CONFIG_FILE, 'utf8').replace('../../templates', path.resolve(ROOT, 'templates'))}\n` +
        `redis:\n  prefix: ${prefix}\nrequests:\n  maxOpenPerRequester: 100\n`,
    );
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const timeoutS = 10;
    const env = {
      SLACK_BOT_TOKEN: 'xoxb-test-shutdown',
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_API_URL: fake.apiUrl,
      REDIS_URL: redisUrl(),
      AWS_ENDPOINT_URL: awsEndpointUrl(),
      AWS_ACCESS_CONFIG: config,
      LOG_LEVEL: 'info',
    };
    const web = spawnNode(
      [CLI, 'start', '--role', 'web', '--shutdown-timeout', String(timeoutS), '--drain', '1'],
      { ...env, PORT: String(port) },
    );
    children.push(web);
    await waitUntil(
      async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200,
      'the web process to be ready',
      30_000,
    );

    // The burst: one command every 40 ms; SIGTERM after the 10th is sent.
    type Outcome = { i: number; status?: number; text?: string; error?: string; at: number };
    const outcomes: Array<Promise<Outcome>> = [];
    const readyz: Array<{ status?: number; at: number }> = [];
    let signalledAt = 0;
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const status = await fetch(`${base}/readyz`).then(
          (r) => r.status,
          () => undefined,
        );
        readyz.push({ status, at: performance.now() });
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    for (let i = 0; i < 40; i++) {
      const body = slashCommandBody({
        text: `sbx readonly 1h burst-${i}`,
        userId: REQUESTER,
        responseUrl: fake.responseUrl(`burst-${i}`),
      });
      outcomes.push(
        postToSlackEvents(base, body).then(
          (r) => ({ i, status: r.status, text: r.text, at: performance.now() }),
          (e: unknown) => ({ i, error: String((e as Error).cause ?? e), at: performance.now() }),
        ),
      );
      if (i === 9) {
        signalledAt = performance.now();
        web.child.kill('SIGTERM');
      }
      await new Promise((r) => setTimeout(r, 40));
    }
    const { code, at: exitedAt } = await web.exited;
    polling = false;
    await poll;
    const results = await Promise.all(outcomes);
    const exitMs = exitedAt - signalledAt;
    const acked = results.filter((r) => r.status !== undefined && r.status >= 200 && r.status < 300);
    const firstUnready = readyz.find((r) => r.at > signalledAt && r.status === 503);
    console.log(
      `web: exit ${code} ${(exitMs / 1000).toFixed(2)} s after SIGTERM; ` +
        `${acked.length}/${results.length} acked, the rest refused: ` +
        `${[...new Set(results.filter((r) => r.error).map((r) => r.error))].join('; ')}; ` +
        `/readyz 503 ${firstUnready ? ((firstUnready.at - signalledAt) / 1000).toFixed(2) : '-'} s after SIGTERM`,
    );

    expect(code).toBe(0);
    expect(exitMs).toBeLessThan(timeoutS * 1000);
    expect(web.output()).toContain('"msg":"stopped"');
    // Nothing had to be cut off: the post-ack work all finished before the deadline.
    expect(web.output()).not.toContain('shutdown deadline');
    // Unready before the exit, and at once.
    expect(firstUnready).toBeDefined();
    expect(firstUnready!.at).toBeLessThan(exitedAt);
    expect(firstUnready!.at - signalledAt).toBeLessThan(500);
    // Everything sent before the signal, and during the drain, was answered.
    expect(acked.length).toBeGreaterThanOrEqual(10);
    // Nothing answered with an error, and nothing cut after its answer started: a request
    // either got its 2xx or was never taken (connection refused after the listener closed).
    for (const r of results) {
      if (r.status !== undefined) expect(r.status, `request ${r.i}: ${r.text}`).toBeLessThan(300);
    }
    // Every acked command is queued for the workers (the web role alone creates no request)...
    redis = new Redis(redisUrl(), { maxRetriesPerRequest: 2 });
    const intake = new Queue(QueueName.intake, { connection: redis, prefix: queuePrefix(prefix) });
    expect(await intake.getJobCounts('wait')).toEqual({ wait: acked.length });
    await intake.close();
    // ... and a worker started afterwards stores each request and posts its approver message.
    const worker = spawnNode([CLI, 'start', '--role', 'worker'], { ...env, PORT: String(await freePort()) });
    children.push(worker);
    const store = new RedisRequestStore(redis, prefix, systemClock);
    const approverMessages = () =>
      fake!
        .callsTo('chat.postMessage')
        .filter((c) => JSON.stringify(c.args.blocks ?? []).includes('"action_id":"request_approve"'));
    await waitUntil(
      () => approverMessages().length >= acked.length || undefined,
      'the worker to announce every acked request',
      30_000,
    );
    const posted = approverMessages();
    for (const r of acked) {
      const message = posted.find((c) => JSON.stringify(c.args).includes(`burst-${r.i}`));
      expect(message, `approver message for burst-${r.i}`).toBeDefined();
      const blocks = message!.args.blocks as Array<{
        elements?: Array<{ action_id?: string; value?: string }>;
      }>;
      const id = blocks
        .flatMap((b) => b.elements ?? [])
        .find((e) => e.action_id === 'request_approve')?.value;
      expect(id, `request id in the approver message for burst-${r.i}`).toBeDefined();
      const stored = await store.get(id!);
      expect(stored?.state, `stored request for burst-${r.i}`).toBe('pending');
    }
  }, 90_000);
});

describe('SIGTERM on a worker while revoke jobs run', () => {
  let app: LifecycleApp | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  function startWorker(extraEnv: Record<string, string>): Child {
    return spawnNode([WORKER_SCRIPT], {
      REDIS_URL: redisUrl(),
      AWS_ENDPOINT_URL: awsEndpointUrl(),
      SLACK_API_URL: app!.fake.apiUrl,
      SLACK_BOT_TOKEN: TEST_BOT_TOKEN,
      TEST_REDIS_PREFIX: app!.loaded.config.redis.prefix,
      TEST_TEMPLATES_DIR: TEMPLATES_DIR,
      // A lock (and stalled check) this long means a job left locked would wait >= 30 s.
      LOCK_MS: '30000',
      ...extraEnv,
    });
  }

  it('hands running jobs back at the deadline; the next worker revokes every grant at once', async () => {
    await resetMoto();
    app = await startLifecycleApp({ role: 'web' });
    const grants = [];
    for (let i = 0; i < 3; i++) grants.push((await activeGrant(app, '5s', i)).request);

    // All three revokes (one account) in flight at once; by default they would take turns.
    const first = startWorker({
      SLOW_DELETE_ROLE_MS: '120000',
      SHUTDOWN_TIMEOUT_MS: '3000',
      REVOKE_PER_ACCOUNT: String(grants.length),
    });
    children.push(first);
    await waitUntil(
      () => (first.output().match(/DELETE_ROLE_REACHED/g)?.length ?? 0) >= grants.length || undefined,
      'every revoke to reach DeleteRole in the first worker',
      30_000,
    );
    const queue = new Queue(QueueName.grants, {
      connection: app.redis,
      prefix: queuePrefix(app.loaded.config.redis.prefix),
    });
    try {
      expect((await queue.getJobCounts('active')).active).toBe(grants.length);
      const signalledAt = performance.now();
      first.child.kill('SIGTERM');
      const { code, at } = await first.exited;
      const exitMs = at - signalledAt;
      expect(code).toBe(0);
      expect(first.output()).toContain('STOPPED');
      // The deadline (3 s) plus the process's own exit, not the 120 s DeleteRole stall.
      expect(exitMs).toBeLessThan(6_000);

      // Nothing left active behind a lock: the jobs are waiting for the next worker.
      const counts = await queue.getJobCounts('active', 'wait');
      expect(counts.active).toBe(0);
      expect(counts.wait).toBe(grants.length);
      for (const request of grants) {
        expect(
          await app.redis.exists(
            `${queuePrefix(app.loaded.config.redis.prefix)}:${QueueName.grants}:revoke-${request.id}:lock`,
          ),
        ).toBe(0);
      }
      // Access is already cut (trust denied), the roles are still there.
      for (const request of grants) expect(await roleExists(app.iam, request.id)).toBe(true);

      const restartedAt = performance.now();
      const second = startWorker({});
      children.push(second);
      for (const request of grants) {
        await waitUntil(
          async () => (await app!.service.requests.get(request.id))?.state === 'revoked',
          `grant ${request.id} to be revoked by the second worker`,
          20_000,
        );
      }
      const recoveredMs = performance.now() - restartedAt;
      console.log(
        `worker: exit ${code} ${(exitMs / 1000).toFixed(2)} s after SIGTERM (deadline 3 s), ` +
          `${grants.length} released jobs revoked ${(recoveredMs / 1000).toFixed(2)} s after the next worker started`,
      );
      // Well under the 30 s lock a stalled-job recovery would have waited for.
      expect(recoveredMs).toBeLessThan(15_000);
      for (const request of grants) {
        expect(await roleExists(app.iam, request.id)).toBe(false);
        // The state turns revoked just before its audit event is appended: wait for the event.
        const events = await waitUntil(async () => {
          const revoked = revokedEvents(await auditEvents(app!, request.id));
          return revoked.length > 0 ? revoked : undefined;
        }, `the revoke audit event of ${request.id}`);
        expect(events).toHaveLength(1);
      }
      second.child.kill('SIGTERM');
      expect((await second.exited).code).toBe(0);
    } finally {
      await queue.close();
    }
  }, 120_000);
});
