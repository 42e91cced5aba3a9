/**
 * What the demo runs on: Redis (the one in REDIS_URL when it answers, otherwise a throwaway
 * redis-server), moto standing in for AWS (AWS_ENDPOINT_URL when set, otherwise a throwaway
 * moto_server that knows the AWS managed policies the shipped templates attach), and the fake
 * Slack Web API. Everything started here is stopped by `stop()`, in reverse order.
 */
import { Redis } from 'ioredis';
import { startFakeSlack, type FakeSlack } from '../test/support/fake-slack.js';
import { startMotoServer, startRedisServer, type LocalServer } from '../test/support/local-servers.js';

export interface Infrastructure {
  redisUrl: string;
  /** True when the demo started redis-server itself (its keys then vanish with it). */
  redisStarted: boolean;
  awsEndpointUrl: string;
  motoStarted: boolean;
  fake: FakeSlack;
  stop(): Promise<void>;
}

export interface InfrastructureOptions {
  /** REDIS_URL, if the caller has one. */
  redisUrl?: string;
  /** AWS_ENDPOINT_URL, if the caller has a moto server running. */
  awsEndpointUrl?: string;
  say(text: string): void;
}

export async function redisAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  const probe = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** moto loads the AWS managed policies (ReadOnlyAccess, …) only when asked to. */
async function loadManagedPolicies(endpoint: string): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ iam: { load_aws_managed_policies: true } }),
  });
  if (!res.ok) throw new Error(`moto at ${endpoint} refused its config (${res.status}); is it moto_server?`);
}

export async function startInfrastructure(options: InfrastructureOptions): Promise<Infrastructure> {
  const started: Array<{ what: string; stop: () => Promise<void> }> = [];
  const stop = async () => {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
    started.length = 0;
  };
  try {
    let redisUrl = options.redisUrl;
    let redisStarted = false;
    if (redisUrl && (await redisAnswers(redisUrl))) {
      options.say(`Redis: using REDIS_URL (${redactUrl(redisUrl)}); the demo's keys are removed at the end`);
    } else {
      if (redisUrl) options.say(`Redis: REDIS_URL (${redactUrl(redisUrl)}) does not answer`);
      const redis: LocalServer = await startRedisServer();
      started.push({ what: 'redis-server', stop: redis.stop });
      redisUrl = redis.url;
      redisStarted = true;
      options.say(`Redis: started a throwaway redis-server at ${redis.url}`);
    }

    let awsEndpointUrl = options.awsEndpointUrl;
    let motoStarted = false;
    if (awsEndpointUrl) {
      await loadManagedPolicies(awsEndpointUrl);
      options.say(`AWS: using the moto server in AWS_ENDPOINT_URL (${awsEndpointUrl})`);
    } else {
      const moto = await startMotoServer({ loadManagedPolicies: true });
      started.push({ what: 'moto_server', stop: moto.stop });
      awsEndpointUrl = moto.url;
      motoStarted = true;
      options.say(`AWS: started a throwaway moto_server at ${moto.url} (no AWS account is touched)`);
    }

    const fake = await startFakeSlack();
    started.push({ what: 'fake Slack', stop: () => fake.stop() });
    options.say(`Slack: a local fake of the Slack Web API at ${fake.apiUrl} (no Slack workspace is touched)`);
    return { redisUrl, redisStarted, awsEndpointUrl, motoStarted, fake, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Never print a Redis password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'an unparsable URL';
  }
}
