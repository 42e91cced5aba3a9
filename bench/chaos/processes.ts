/**
 * The processes a chaos run starts, each in its own process group so that stopping it (or
 * SIGKILLing it as a fault) takes everything it spawned: the service processes
 * (service-entry.ts through tsx) and a Sentinel-managed Redis (primary and replica with AOF,
 * each restartable on its port, and three Sentinels). Every process is registered in `started` so the harness's `finally`
 * (and its signal handlers) can stop whatever is still running.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
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

/**
 * redis-server with AOF on, its files (and its config file) in `dir`, on a fixed port so a restart
 * comes back there. It runs from a config file (`redis.conf` in `dir`) so that what Sentinel
 * rewrites there (`REPLICAOF`, `CONFIG REWRITE` on a failover) survives a restart, as it does on
 * a real host: a promoted replica restarts as a primary, a demoted primary as a replica.
 */
export class RedisProcess {
  child?: ChildProcess;
  restarts = 0;
  constructor(
    readonly port: number,
    readonly dir: string,
    readonly logFile: string,
    /** Start as a replica of this port (first start only; the config file decides later). */
    readonly replicaOf?: number,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  private configFile(): string {
    const file = path.join(this.dir, 'redis.conf');
    if (existsSync(file)) return file;
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(
      file,
      [
        `port ${this.port}`,
        'bind 127.0.0.1',
        `dir ${this.dir}`,
        'save ""',
        'appendonly yes',
        'appendfsync everysec',
        'maxmemory-policy noeviction',
        ...(this.replicaOf === undefined ? [] : [`replicaof 127.0.0.1 ${this.replicaOf}`]),
        '',
      ].join('\n'),
    );
    return file;
  }

  async start(): Promise<void> {
    const binary = findBinary('redis-server');
    if (!binary) throw new MissingBinaryError('redis-server');
    const conf = this.configFile();
    const log = openSync(this.logFile, 'a');
    const child = spawn(binary, [conf], { detached: true, stdio: ['ignore', log, log] });
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

/** Sends one command to 127.0.0.1:port on a fresh connection (no retries) and returns the reply. */
export async function ask(port: number, ...command: string[]): Promise<unknown> {
  const probe = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableReadyCheck: false,
    connectTimeout: 2000,
    commandTimeout: 5000,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return await probe.call(command[0]!, ...command.slice(1));
  } finally {
    probe.disconnect();
  }
}

/** The monitored primary's name of the chaos run's Sentinel set. */
export const SENTINEL_NAME = 'chaos-primary';
/** Sentinel's `down-after-milliseconds`: short, but longer than a restart's outage (see run.ts). */
export const SENTINEL_DOWN_AFTER_MS = 5000;

/**
 * A Sentinel-managed Redis: a primary and one replica (both `RedisProcess`, AOF on, each in a
 * directory of its own) and three Sentinels (quorum 2, `down-after-milliseconds`
 * SENTINEL_DOWN_AFTER_MS), every process in its own group, logged to `dir`.
 */
export class RedisSentinelSet {
  readonly nodes: RedisProcess[] = [];
  readonly sentinels: number[] = [];
  private readonly sentinelChildren: ChildProcess[] = [];
  constructor(readonly dir: string) {}

  static async start(dir: string, ports: () => Promise<number>): Promise<RedisSentinelSet> {
    const set = new RedisSentinelSet(dir);
    try {
      await set.startAll(ports);
    } catch (error) {
      await set.stop();
      throw error;
    }
    return set;
  }

  private async startAll(ports: () => Promise<number>): Promise<void> {
    const binary = findBinary('redis-server');
    if (!binary) throw new MissingBinaryError('redis-server');
    const primaryPort = await ports();
    const primary = new RedisProcess(
      primaryPort,
      path.join(this.dir, `redis-${primaryPort}`),
      path.join(this.dir, `redis-${primaryPort}.log`),
    );
    this.nodes.push(primary);
    await primary.start();
    const replicaPort = await ports();
    const replica = new RedisProcess(
      replicaPort,
      path.join(this.dir, `redis-${replicaPort}`),
      path.join(this.dir, `redis-${replicaPort}.log`),
      primaryPort,
    );
    this.nodes.push(replica);
    await replica.start();
    await this.waitFor('the replica in sync', async () =>
      String(await ask(replicaPort, 'INFO', 'replication')).includes('master_link_status:up'),
    );
    for (let i = 0; i < 3; i++) {
      const port = await ports();
      this.sentinels.push(port);
      const conf = path.join(this.dir, `sentinel-${port}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${this.dir}`,
          `sentinel monitor ${SENTINEL_NAME} 127.0.0.1 ${primaryPort} 2`,
          `sentinel down-after-milliseconds ${SENTINEL_NAME} ${SENTINEL_DOWN_AFTER_MS}`,
          `sentinel failover-timeout ${SENTINEL_NAME} 10000`,
          `sentinel parallel-syncs ${SENTINEL_NAME} 1`,
          '',
        ].join('\n'),
      );
      const log = openSync(path.join(this.dir, `sentinel-${port}.log`), 'a');
      const child = spawn(binary, [conf, '--sentinel'], { detached: true, stdio: ['ignore', log, log] });
      closeSync(log);
      started.add(child);
      child.once('exit', () => started.delete(child));
      this.sentinelChildren.push(child);
    }
    for (const port of this.sentinels) {
      await this.waitFor(`sentinel :${port} sees the replica and the other sentinels`, async () => {
        const info = (await ask(port, 'SENTINEL', 'MASTER', SENTINEL_NAME)) as string[];
        const field = (name: string) => info[info.indexOf(name) + 1];
        return field('num-slaves') === '1' && field('num-other-sentinels') === '2';
      });
    }
  }

  private async waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${what} did not happen within ${timeoutMs} ms`);
  }

  /** What the services and the harness connect with (`redis.sentinel` in the config). */
  get config(): { sentinels: Array<{ host: string; port: number }>; name: string } {
    return { name: SENTINEL_NAME, sentinels: this.sentinels.map((port) => ({ host: '127.0.0.1', port })) };
  }

  /** The primary's port as each Sentinel names it (undefined: that Sentinel did not answer). */
  async primaryPorts(): Promise<Array<number | undefined>> {
    return Promise.all(
      this.sentinels.map(async (port) => {
        const addr = (await ask(port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_NAME).catch(
          () => null,
        )) as string[] | null;
        return addr ? Number(addr[1]) : undefined;
      }),
    );
  }

  /** The node every Sentinel names as primary, if they agree and it says it is one. */
  async currentPrimary(): Promise<RedisProcess | undefined> {
    const ports = await this.primaryPorts();
    if (ports[0] === undefined || ports.some((p) => p !== ports[0])) return undefined;
    const node = this.nodes.find((n) => n.port === ports[0]);
    if (!node) return undefined;
    const role = (await ask(node.port, 'ROLE').catch(() => null)) as unknown[] | null;
    return role?.[0] === 'master' ? node : undefined;
  }

  /**
   * Settled: every Sentinel names the same primary, it says it is one, and every other node is
   * its replica with the link up (so the next fault does not land on a half-done failover).
   */
  async settled(): Promise<RedisProcess | undefined> {
    const primary = await this.currentPrimary();
    if (!primary) return undefined;
    for (const node of this.nodes) {
      if (node === primary) continue;
      const info = String(await ask(node.port, 'INFO', 'replication').catch(() => ''));
      if (!info.includes(`master_port:${primary.port}`) || !info.includes('master_link_status:up'))
        return undefined;
    }
    return primary;
  }

  async waitSettled(timeoutMs: number): Promise<RedisProcess> {
    let primary: RedisProcess | undefined;
    await this.waitFor(
      'the Sentinel set settled (one primary named by all, its replica in sync)',
      async () => (primary = await this.settled()) !== undefined,
      timeoutMs,
    );
    return primary!;
  }

  async stop(): Promise<void> {
    await Promise.all(this.sentinelChildren.map((c) => stopChild(c, 5000)));
    await Promise.all(this.nodes.map((n) => n.stop()));
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
