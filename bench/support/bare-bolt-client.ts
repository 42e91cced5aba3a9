/**
 * Starts bench/support/bare-bolt-process.ts (bare Bolt, the `ack` bench's floor) as a child
 * process through tsx, like the service; same IPC messages, same handle.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { next, type ServiceHandle } from './service-client.js';
import type { FromChild, ToChild } from './service-process.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bare-bolt-process.ts');

export async function startBareBoltProcess(command = '/aws-access'): Promise<ServiceHandle> {
  const child = fork(CHILD, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  let stderrText = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderrText = (stderrText + chunk.toString('utf8')).slice(-4000);
  });
  const stderr = () => stderrText;
  const ready = next(child, 'ready', 60_000, stderr);
  child.send({ type: 'start', command });
  let port: number;
  try {
    port = ((await ready) as Extract<FromChild, { type: 'ready' }>).port;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    async stats(reset = false) {
      const answer = next(child, 'stats', 30_000, stderr);
      child.send({ type: 'stats', reset } satisfies ToChild);
      return ((await answer) as Extract<FromChild, { type: 'stats' }>).stats;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      try {
        child.send({ type: 'stop' } satisfies ToChild);
      } catch {
        child.kill('SIGKILL');
      }
      await exited;
      clearTimeout(timer);
    },
  };
}
