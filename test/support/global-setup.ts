import type { TestProject } from 'vitest/node';
import type { RedisTarget } from '../../src/store/redis-connection.js';
import {
  redisTopologyOf,
  startMotoServer,
  startRedisTopology,
  type LocalServer,
  type RedisTopology,
} from './local-servers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    /** What every test connection and the app under test connect to (see services.ts). */
    redisTarget: RedisTarget;
    redisTopology: RedisTopology;
    awsEndpointUrl: string;
  }
}

const started: LocalServer[] = [];

/**
 * `TEST_REDIS_TOPOLOGY=cluster|sentinel` starts a local Redis Cluster or Sentinel set (REDIS_URL
 * is then not used); otherwise REDIS_URL, or a throwaway single redis-server.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const topology = redisTopologyOf(process.env.TEST_REDIS_TOPOLOGY);
  let redisUrl = topology === 'single' ? process.env.REDIS_URL : undefined;
  let redisTarget: RedisTarget | undefined = redisUrl ? { url: redisUrl } : undefined;
  let awsEndpointUrl = process.env.AWS_ENDPOINT_URL;
  try {
    if (!redisTarget) {
      const redis = await startRedisTopology(topology);
      started.push(redis);
      redisUrl = redis.url;
      redisTarget = redis.target;
    }
    if (!awsEndpointUrl) {
      const moto = await startMotoServer();
      started.push(moto);
      awsEndpointUrl = moto.url;
    }
  } catch (error) {
    await Promise.all(started.map((s) => s.stop()));
    throw error;
  }
  project.provide('redisUrl', redisUrl!);
  project.provide('redisTarget', redisTarget);
  project.provide('redisTopology', topology);
  project.provide('awsEndpointUrl', awsEndpointUrl);
  return async () => {
    await Promise.all(started.map((s) => s.stop()));
  };
}
