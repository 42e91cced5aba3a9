/**
 * Starts throwaway redis-server and moto_server processes on free ports. Used by the vitest
 * global setup and by `npm run demo`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

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
      // Refused connections are expected until the server listens; connect() reports them.
      probe.on('error', () => undefined);
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
