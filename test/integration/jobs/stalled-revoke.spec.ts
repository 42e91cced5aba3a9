/**
 * A worker process killed (SIGKILL) in the middle of a revoke: BullMQ finds the job stalled once
 * its lock expires and another worker process finishes it. Real child processes, real Redis and
 * moto; the first process is made slow on DeleteRole so the kill lands mid-revoke.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  activeGrant,
  auditEvents,
  revokedEvents,
  roleExists,
  startLifecycleApp,
  TEMPLATES_DIR,
  type LifecycleApp,
} from '../../support/grant-lifecycle.js';
import { awsEndpointUrl, redisUrl, resetMoto } from '../../support/services.js';
import { TEST_BOT_TOKEN } from '../../support/app-harness.js';
import { waitUntil } from '../../support/slack-flow.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SCRIPT = path.join(ROOT, 'test/support/grant-worker-process.ts');

interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startWorkerProcess(app: LifecycleApp, extraEnv: Record<string, string> = {}): WorkerProcess {
  let output = '';
  // `node --import tsx`, not the tsx CLI: the CLI forks a second process, and SIGKILL on the
  // wrapper would leave the real worker alive (still renewing its lock).
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
    cwd: ROOT,
    env: {
      ...process.env,
      REDIS_URL: redisUrl(),
      AWS_ENDPOINT_URL: awsEndpointUrl(),
      SLACK_API_URL: app.fake.apiUrl,
      SLACK_BOT_TOKEN: TEST_BOT_TOKEN,
      TEST_REDIS_PREFIX: app.loaded.config.redis.prefix,
      TEST_TEMPLATES_DIR: TEMPLATES_DIR,
      LOCK_MS: '2000',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

describe('a worker killed mid-revoke', () => {
  let app: LifecycleApp | undefined;
  const children: WorkerProcess[] = [];
  beforeEach(async () => {
    await resetMoto();
  });
  afterEach(async () => {
    for (const w of children.splice(0)) {
      if (w.child.exitCode === null && w.child.signalCode === null) {
        w.child.kill('SIGTERM');
        await Promise.race([w.exited, new Promise((r) => setTimeout(r, 5000))]);
        if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      }
    }
    await app?.stop();
    app = undefined;
  });

  it('leaves a stalled job another worker process finishes: role gone, exactly one revoked event', async () => {
    // This process only takes Slack requests; the workers are the child processes.
    app = await startLifecycleApp({ role: 'web' });
    const { request } = await activeGrant(app, '5s');

    const first = startWorkerProcess(app, { SLOW_DELETE_ROLE_MS: '120000' });
    children.push(first);
    await waitUntil(
      () => first.output().includes('DELETE_ROLE_REACHED') || undefined,
      'the first worker to reach DeleteRole',
      30_000,
    );
    // Mid-revoke: access is already cut (trust denied), the role still exists.
    expect(await roleExists(app.iam, request.id)).toBe(true);
    first.child.kill('SIGKILL');
    await first.exited;
    expect((await app.service.requests.get(request.id))?.state).toBe('active');

    const killedAt = Date.now();
    const second = startWorkerProcess(app);
    children.push(second);
    const revoked = await waitUntil(
      async () => {
        const r = await app!.service.requests.get(request.id);
        return r?.state === 'revoked' ? r : undefined;
      },
      'the second worker to finish the stalled revoke',
      30_000,
    );
    console.log(`stalled revoke finished ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
    expect(revoked.revokedBy).toBe('system');
    expect(await roleExists(app.iam, request.id)).toBe(false);
    expect(revokedEvents(await auditEvents(app, request.id))).toHaveLength(1);
  }, 90_000);
});
