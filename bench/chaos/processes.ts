/**
 * The processes a chaos run starts, each in its own process group so that stopping it (or
 * SIGKILLing it as a fault) takes everything it spawned: the service processes
 * (service-entry.ts through tsx) and a redis-server with AOF in a temp dir on a fixed port,
 * restartable on that port. Every process is registered in `started` so the harness's `finally`
 * (and its signal handlers) can stop whatever is still running.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { findBinary, MissingBinaryError } from '../../test/support/local-servers.js';

const ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'service-entry.ts');

/** Every child still alive; the harness kills their groups on the way out. */
export const started = new Set<ChildProcess>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM the group, SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  const done = exited(child);
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
  await done;
  clearTimeout(timer);
  started.delete(child);
}

/** Synchronous last resort (process 'exit' handler): SIGKILL every group still registered. */
export function killAllNow(): void {
  for (const child of started) killGroup(child, 'SIGKILL');
}

export interface ServiceSpec {
  name: string;
  role: 'web' | 'worker' | 'all';
  clockOffsetMs: number;
  port: number;
  env: NodeJS.ProcessEnv;
  logFile: string;
}

export class ServiceProcess {
  child?: ChildProcess;
  starts = 0;
  constructor(readonly spec: ServiceSpec) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.spec.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(timeoutMs = 90_000): Promise<void> {
    const log = openSync(this.spec.logFile, 'a');
    const child = fork(ENTRY, [], {
      execArgv: ['--import', 'tsx'],
      detached: true,
      stdio: ['ignore', log, log, 'ipc'],
      env: {
        ...this.spec.env,
        NODE_ENV: 'production',
        CHAOS_ROLE: this.spec.role,
        CHAOS_CLOCK_OFFSET_MS: String(this.spec.clockOffsetMs),
        PORT: String(this.spec.port),
      },
    });
    closeSync(log);
    started.add(child);
    child.once('exit', () => started.delete(child));
    this.child = child;
    this.starts += 1;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(`${this.spec.name} did not start within ${timeoutMs} ms (log: ${this.spec.logFile})`),
        );
      }, timeoutMs);
      const onMessage = (m: { type?: string; message?: string }) => {
        if (m.type === 'ready') {
          cleanup();
          resolve();
        } else if (m.type === 'error') {
          cleanup();
          reject(new Error(`${this.spec.name} failed to start: ${m.message} (log: ${this.spec.logFile})`));
        }
      };
      const onExit = (code: number | null, signal: string | null) => {
        cleanup();
        reject(
          new Error(
            `${this.spec.name} exited (${code ?? signal}) while starting (log: ${this.spec.logFile})`,
          ),
        );
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

  /** The fault: SIGKILL of the whole group, no shutdown of any kind. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const done = exited(child);
    killGroup(child, 'SIGKILL');
    await done;
  }

  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child);
  }
}

/** redis-server with AOF on, its files in `dir`, on a fixed port so a restart comes back there. */
export class RedisProcess {
  child?: ChildProcess;
  restarts = 0;
  constructor(
    readonly port: number,
    readonly dir: string,
    readonly logFile: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const binary = findBinary('redis-server');
    if (!binary) throw new MissingBinaryError('redis-server');
    const log = openSync(this.logFile, 'a');
    const child = spawn(
      binary,
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--maxmemory-policy',
        'noeviction',
      ],
      { detached: true, stdio: ['ignore', log, log] },
    );
    closeSync(log);
    started.add(child);
    child.once('exit', () => started.delete(child));
    this.child = child;
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null)
        throw new Error(`redis-server exited (${child.exitCode}); see ${this.logFile}`);
      const probe = new Redis(this.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        // Loading the AOF answers LOADING until done.
        if ((await probe.ping()) === 'PONG') return;
      } catch {
        // not yet
      } finally {
        probe.disconnect();
      }
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on ${this.url}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A clean restart: SIGTERM (redis fsyncs the AOF and exits), down for `downMs`, started again. */
  async restart(downMs: number): Promise<void> {
    if (this.child) await stopChild(this.child, 15_000);
    await new Promise((r) => setTimeout(r, downMs));
    await this.start();
    this.restarts += 1;
  }

  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child, 15_000);
  }
}

/** moto_server on a free loopback port, in its own process group. */
export async function startMoto(
  port: number,
  logFile: string,
): Promise<{ url: string; stop(): Promise<void> }> {
  const binary = findBinary('moto_server');
  if (!binary) throw new MissingBinaryError('moto_server');
  const log = openSync(logFile, 'a');
  const child = spawn(binary, ['-H', '127.0.0.1', '-p', String(port)], {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, MOTO_IAM_LOAD_MANAGED_POLICIES: 'false' },
  });
  closeSync(log);
  started.add(child);
  child.once('exit', () => started.delete(child));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited (${child.exitCode}); see ${logFile}`);
    if (
      await fetch(`${url}/moto-api/`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) {
      await stopChild(child, 2000);
      throw new Error('moto_server did not answer within 60 s');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, stop: () => stopChild(child, 5000) };
}
