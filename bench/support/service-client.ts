/**
 * Starts bench/support/service-process.ts as a child process (through tsx) and talks to it
 * over IPC. The child's log lines go to /dev/null; its stderr is kept for error reports.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FromChild, ProcessStats, ServiceProcessOptions, ToChild } from './service-process.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'service-process.ts');

export interface ServiceHandle {
  port: number;
  baseUrl: string;
  pid: number;
  stats(reset?: boolean): Promise<ProcessStats>;
  stop(): Promise<void>;
}

/** The child's next message of `type` (its 'error' or exit rejects). */
export function next(child: ChildProcess, type: FromChild['type'], timeoutMs: number, stderr: () => string) {
  return new Promise<FromChild>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`the service process did not answer "${type}" within ${timeoutMs} ms\n${stderr()}`));
    }, timeoutMs);
    const onMessage = (message: FromChild) => {
      if (message.type === 'error') {
        cleanup();
        reject(new Error(`the service process failed: ${message.message}\n${stderr()}`));
      } else if (message.type === type) {
        cleanup();
        resolve(message);
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`the service process exited (${code}) before "${type}"\n${stderr()}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceHandle> {
  return startChildProcess(
    CHILD,
    [
      // BENCH_SERVICE_NODE_OPTIONS: extra V8/Node flags for the service only (e.g. a heap limit).
      ...(process.env.BENCH_SERVICE_NODE_OPTIONS?.split(' ').filter(Boolean) ?? []),
      // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of the service when it stops.
      ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
    ],
    { type: 'start', options },
  );
}

/**
 * Forks `entry` through tsx with `nodeFlags`, sends it `start` and waits for its port; the handle
 * asks it for stats and stops it (SIGKILL after 15 s). Shared by the service and the bare-Bolt floor.
 */
export async function startChildProcess(
  entry: string,
  nodeFlags: string[],
  start: ToChild | { type: 'start'; command: string; redisUrl?: string },
): Promise<ServiceHandle> {
  const child = fork(entry, [], {
    execArgv: ['--import', 'tsx', ...nodeFlags],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  let stderrText = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderrText = (stderrText + chunk.toString('utf8')).slice(-4000);
  });
  const stderr = () => stderrText;
  const ready = next(child, 'ready', 60_000, stderr);
  child.send(start);
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
