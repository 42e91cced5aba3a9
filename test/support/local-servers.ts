/**
 * Starts throwaway redis-server and moto_server processes on free ports. Used by the vitest
 * global setup and by `npm run demo`. Besides a single Redis it starts a real 3-master Redis
 * Cluster and a primary + replica watched by 3 Sentinels (`startRedisTopology`), in a temp dir
 * that is removed when they stop.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { RedisTarget } from '../../src/store/redis-connection.js';

export const INSTALL_HINTS: Record<string, string> = {
  'redis-server':
    'redis-server is not installed (not on PATH). Install it with `apt-get install redis-server` (Debian/Ubuntu) or `brew install redis`, or set REDIS_URL to a running Redis.',
  moto_server:
    'moto_server is not installed (not on PATH). Install it with `pip install "moto[server]"`, or set AWS_ENDPOINT_URL to a running moto server.',
};

export class MissingBinaryError extends Error {
  constructor(readonly binary: string) {
    super(INSTALL_HINTS[binary] ?? `${binary} is not installed (not on PATH)`);
    this.name = 'MissingBinaryError';
  }
}

export function findBinary(name: string, searchPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  child: ChildProcess,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited early with code ${child.exitCode}`);
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not become ready within ${timeoutMs} ms`);
}

export interface LocalServer {
  url: string;
  stop(): Promise<void>;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
}

export async function startRedisServer(): Promise<LocalServer> {
  const binary = findBinary('redis-server');
  if (!binary) throw new MissingBinaryError('redis-server');
  const port = await freePort();
  const child = spawn(
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'noeviction',
    ],
    { stdio: 'ignore' },
  );
  const { Redis } = await import('ioredis');
  const url = `redis://127.0.0.1:${port}`;
  await waitFor(
    'redis-server',
    async () => {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined); // refused until the server listens; we poll again
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG';
      } finally {
        probe.disconnect();
      }
    },
    child,
    10_000,
  );
  return { url, stop: stopper(child) };
}

export interface MotoOptions {
  /**
   * The shipped templates attach AWS managed policies (ReadOnlyAccess, PowerUserAccess, …); moto
   * only knows them when told to load them at start-up, which makes every new account slower
   * (about 0.25 s each). The demo turns it on; the tests use templates that don't need it.
   */
  loadManagedPolicies?: boolean;
}

export async function startMotoServer(options: MotoOptions = {}): Promise<LocalServer> {
  const binary = findBinary('moto_server');
  if (!binary) throw new MissingBinaryError('moto_server');
  const port = await freePort();
  const child = spawn(binary, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
    env: { ...process.env, MOTO_IAM_LOAD_MANAGED_POLICIES: options.loadManagedPolicies ? 'true' : 'false' },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('moto_server', async () => (await fetch(`${url}/moto-api/`)).ok, child, 30_000);
  return { url, stop: stopper(child) };
}

/** Which Redis the tests run against: `TEST_REDIS_TOPOLOGY=single|cluster|sentinel` (default single). */
export type RedisTopology = 'single' | 'cluster' | 'sentinel';

export function redisTopologyOf(value: string | undefined): RedisTopology {
  const topology = value?.trim() || 'single';
  if (topology === 'single' || topology === 'cluster' || topology === 'sentinel') return topology;
  throw new Error(`TEST_REDIS_TOPOLOGY must be single, cluster or sentinel, not "${topology}"`);
}

export interface LocalRedis extends LocalServer {
  topology: RedisTopology;
  /** What createRedis is given: the URL (credentials) plus the cluster or the Sentinels. */
  target: RedisTarget;
}

/** The monitored primary's name of the local Sentinel set. */
export const SENTINEL_MASTER_NAME = 'aab-primary';

export async function startRedisTopology(topology: RedisTopology): Promise<LocalRedis> {
  if (topology === 'cluster') return startRedisCluster();
  if (topology === 'sentinel') return startRedisSentinel();
  const single = await startRedisServer();
  return { ...single, topology, target: { url: single.url } };
}

const BASE_ARGS = [
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'no',
  '--maxmemory-policy',
  'noeviction',
];

/** A throwaway directory for the cluster and Sentinel files, removed by `remove()`. */
function tempDir(label: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), `aab-${label}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Sends one command to 127.0.0.1:port on a fresh connection (no retries) and returns the reply. */
async function ask(port: number, ...command: string[]): Promise<unknown> {
  const { Redis } = await import('ioredis');
  const probe = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableReadyCheck: false,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return await probe.call(command[0]!, ...command.slice(1));
  } finally {
    probe.disconnect();
  }
}

async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  children: ChildProcess[],
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const dead = children.find((c) => c.exitCode !== null);
    if (dead) throw new Error(`${what}: a redis process exited early with code ${dead.exitCode}`);
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}

function stopAll(children: ChildProcess[], remove: () => void): () => Promise<void> {
  return async () => {
    await Promise.all(children.map((c) => stopper(c)()));
    remove();
  };
}

function redisBinary(): string {
  const binary = findBinary('redis-server');
  if (!binary) throw new MissingBinaryError('redis-server');
  return binary;
}

/**
 * Three masters, no replicas: `redis-server --cluster-enabled yes` ×3 (each with its bus on a
 * free port of its own, `cluster-port`), `redis-cli --cluster create`, then wait until every
 * node reports `cluster_state:ok`.
 */
export async function startRedisCluster(): Promise<LocalRedis> {
  const binary = redisBinary();
  const cli = findBinary('redis-cli');
  if (!cli) throw new MissingBinaryError('redis-cli');
  const { dir, remove } = tempDir('cluster');
  const children: ChildProcess[] = [];
  const stop = stopAll(children, remove);
  try {
    const ports: number[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const bus = await freePort();
      ports.push(port);
      children.push(
        spawn(
          binary,
          [
            '--port',
            String(port),
            '--cluster-enabled',
            'yes',
            '--cluster-port',
            String(bus),
            '--cluster-config-file',
            path.join(dir, `nodes-${port}.conf`),
            '--cluster-node-timeout',
            '3000',
            '--dir',
            dir,
            ...BASE_ARGS,
          ],
          { stdio: 'ignore' },
        ),
      );
    }
    for (const port of ports) {
      await waitUntil(
        `redis-server :${port}`,
        async () => (await ask(port, 'PING')) === 'PONG',
        children,
        10_000,
      );
    }
    await promisify(execFile)(
      cli,
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
    for (const port of ports) {
      await waitUntil(
        `cluster_state:ok on :${port}`,
        async () => String(await ask(port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'),
        children,
        20_000,
      );
    }
    return {
      topology: 'cluster',
      url: `redis://127.0.0.1:${ports[0]}`,
      target: {
        url: `redis://127.0.0.1:${ports[0]}`,
        cluster: { nodes: ports.map((port) => ({ host: '127.0.0.1', port })) },
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * A primary, one replica of it, and three Sentinels (`redis-server <conf> --sentinel`, quorum 2,
 * down after 1 s) that monitor it; ready once every Sentinel knows the replica and the two other
 * Sentinels, so a failover can be started at once.
 */
export async function startRedisSentinel(): Promise<LocalRedis> {
  const binary = redisBinary();
  const { dir, remove } = tempDir('sentinel');
  const children: ChildProcess[] = [];
  const stop = stopAll(children, remove);
  try {
    const primary = await freePort();
    const replica = await freePort();
    children.push(
      spawn(binary, ['--port', String(primary), '--dir', dir, ...BASE_ARGS], { stdio: 'ignore' }),
    );
    children.push(
      spawn(
        binary,
        ['--port', String(replica), '--replicaof', '127.0.0.1', String(primary), '--dir', dir, ...BASE_ARGS],
        {
          stdio: 'ignore',
        },
      ),
    );
    await waitUntil(
      'the replica in sync',
      async () => String(await ask(replica, 'INFO', 'replication')).includes('master_link_status:up'),
      children,
      15_000,
    );
    const sentinels: number[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      sentinels.push(port);
      const conf = path.join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${primary} 2`,
          `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} 1000`,
          `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 10000`,
          `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
          '',
        ].join('\n'),
      );
      children.push(spawn(binary, [conf, '--sentinel'], { stdio: 'ignore' }));
    }
    for (const port of sentinels) {
      await waitUntil(
        `sentinel :${port} sees the replica and the other sentinels`,
        async () => {
          const info = (await ask(port, 'SENTINEL', 'MASTER', SENTINEL_MASTER_NAME)) as string[];
          const field = (name: string) => info[info.indexOf(name) + 1];
          return field('num-slaves') === '1' && field('num-other-sentinels') === '2';
        },
        children,
        20_000,
      );
    }
    return {
      topology: 'sentinel',
      url: `redis://127.0.0.1:${primary}`,
      target: {
        // Only its credentials count (none here): the primary is whichever the Sentinels name.
        url: `redis://127.0.0.1:${primary}`,
        sentinel: {
          name: SENTINEL_MASTER_NAME,
          sentinels: sentinels.map((port) => ({ host: '127.0.0.1', port })),
        },
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
