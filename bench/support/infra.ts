/**
 * Throwaway infrastructure for one bench: a redis-server and (when asked) a moto_server on
 * free loopback ports, started with the test suite's own helpers and stopped afterwards.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { startMotoServer, startRedisServer, type LocalServer } from '../../test/support/local-servers.js';

export interface Infra {
  redisUrl: string;
  awsEndpointUrl?: string;
  stop(): Promise<void>;
}

/** moto accepts any keys; the SDK's default chain must find some and never a real profile. */
export function useMotoCredentials(endpoint: string): void {
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ENDPOINT_URL = endpoint;
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
}

export async function startInfra(options: { moto: boolean }): Promise<Infra> {
  const started: LocalServer[] = [];
  try {
    const redis = await startRedisServer();
    started.push(redis);
    let awsEndpointUrl: string | undefined;
    if (options.moto) {
      const moto = await startMotoServer();
      started.push(moto);
      awsEndpointUrl = moto.url;
      useMotoCredentials(moto.url);
    }
    return {
      redisUrl: redis.url,
      awsEndpointUrl,
      stop: async () => {
        await Promise.all(started.map((s) => s.stop()));
      },
    };
  } catch (error) {
    await Promise.all(started.map((s) => s.stop()));
    throw error;
  }
}

/** Wipes every moto backend. */
export async function resetMoto(endpoint: string): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`moto reset failed: ${res.status}`);
}

function tryRun(file: string, args: string[]): string {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

export interface MachineInfo {
  date: string;
  nproc: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  platform: string;
  redis: string;
  moto: string;
  /** 1-minute load average when the run started: other work on a shared machine skews numbers. */
  loadAverage: number;
}

export function machineInfo(): MachineInfo {
  const redis = /v=(\S+)/.exec(tryRun('redis-server', ['--version']))?.[1] ?? 'unknown';
  return {
    date: new Date().toISOString().slice(0, 10),
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    redis,
    moto: tryRun('python3', ['-c', 'import moto; print(moto.__version__)']),
    loadAverage: Number(os.loadavg()[0]!.toFixed(2)),
  };
}
