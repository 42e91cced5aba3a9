/**
 * Shared set-up for the AWS integration tests: the real factory against moto and Redis, a
 * mutable clock, a tiny fake of the federation endpoint, and helpers to watch or break SDK
 * calls through middleware.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { readEnvOptions } from '../../../src/config/env.js';
import type { AppConfig } from '../../../src/config/schema.js';
import { createAwsServices, type AwsServices } from '../../../src/aws/create-aws-services.js';
import { createLogger } from '../../../src/logger.js';
import { createMetrics } from '../../../src/http/metrics.js';
import { awsEndpointUrl, redisUrl, testConfig } from '../../support/services.js';

export const ACCOUNT = '111111111111';
export const REQUESTER = {
  slackUserId: 'U0REQUESTER',
  principalArn: 'arn:aws:iam::123456789012:user/requester',
  email: 'requester@example.com',
};

/**
 * moto only knows AWS managed policies (ReadOnlyAccess, …) when told to load them; the templates
 * attach them, so AWS tests switch it on and back off (other suites share this moto).
 */
export async function motoManagedPolicies(load: boolean): Promise<void> {
  const res = await fetch(`${awsEndpointUrl()}/moto-api/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ iam: { load_aws_managed_policies: load } }),
  });
  if (!res.ok) throw new Error(`moto config failed: ${res.status}`);
}

export class TestClock {
  constructor(public t = Date.parse('2030-01-01T10:00:00Z')) {}
  now = () => this.t;
}

export interface Kit {
  services: AwsServices;
  clock: TestClock;
  redis: Redis;
  prefix: string;
  metrics: ReturnType<typeof createMetrics>;
  sleeps: number[];
  close(): Promise<void>;
}

export async function makeKit(mutate?: (c: AppConfig) => void, maxAttempts = 3): Promise<Kit> {
  const loaded = testConfig(mutate);
  const redis = new Redis(redisUrl(), { maxRetriesPerRequest: 2 });
  const clock = new TestClock(Date.now());
  const metrics = createMetrics();
  const sleeps: number[] = [];
  const env = { ...readEnvOptions({}), awsRegion: 'us-east-1', awsEndpointUrl: awsEndpointUrl() };
  const services = await createAwsServices({
    env,
    loaded,
    redis,
    logger: createLogger({ level: 'silent' }),
    metrics,
    clock,
    maxAttempts,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  return {
    services,
    clock,
    redis,
    prefix: loaded.config.redis.prefix,
    metrics,
    sleeps,
    close: async () => {
      const keys = await redis.keys(`${loaded.config.redis.prefix}*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    },
  };
}

type Stack = {
  middlewareStack: {
    add(
      mw: (
        next: (a: { input: unknown }) => Promise<unknown>,
        ctx: { commandName?: string },
      ) => (a: { input: unknown }) => Promise<unknown>,
      o: { step: 'initialize' | 'finalizeRequest'; name?: string; priority?: 'low' | 'high' },
    ): void;
    remove(name: string): boolean;
  };
};

/** Records the input of every command the client sends. */
export function recordCalls(
  client: unknown,
  name = 'testRecorder',
): Array<{ command: string; input: unknown }> {
  const calls: Array<{ command: string; input: unknown }> = [];
  (client as Stack).middlewareStack.add(
    (next, ctx) => async (args) => {
      calls.push({ command: (ctx.commandName ?? '').replace(/Command$/, ''), input: args.input });
      return next(args);
    },
    { step: 'initialize', name },
  );
  return calls;
}

/**
 * Makes `command` fail below the SDK's retry layer (so its retry strategy sees the failure)
 * for the next `times` attempts; returns a counter of attempts that reached the wire layer.
 */
export function failBelowRetry(
  client: unknown,
  command: string,
  makeError: () => Error,
  times: number,
  name = 'testFailure',
): { attempts: number } {
  const state = { attempts: 0, left: times };
  (client as Stack).middlewareStack.add(
    (next, ctx) => async (args) => {
      if (ctx.commandName !== `${command}Command`) return next(args);
      state.attempts += 1;
      if (state.left > 0) {
        state.left -= 1;
        throw makeError();
      }
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name },
  );
  return state;
}

export function awsError(name: string, status: number, message = `${name} (injected by the test)`): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

/** A tiny stand-in for https://signin.aws.amazon.com/federation answering getSigninToken. */
export async function startFakeFederation(): Promise<{
  url: string;
  sessions: Array<Record<string, string>>;
  stop(): Promise<void>;
}> {
  const sessions: Array<Record<string, string>> = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.searchParams.get('Action') === 'getSigninToken') {
      sessions.push(JSON.parse(url.searchParams.get('Session') ?? '{}') as Record<string, string>);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ SigninToken: `token-${sessions.length}` }));
      return;
    }
    res.writeHead(400);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/federation`,
    sessions,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
