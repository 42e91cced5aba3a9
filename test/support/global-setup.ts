import type { TestProject } from 'vitest/node';
import { startMotoServer, startRedisServer, type LocalServer } from './local-servers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    awsEndpointUrl: string;
  }
}

const started: LocalServer[] = [];

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let redisUrl = process.env.REDIS_URL;
  let awsEndpointUrl = process.env.AWS_ENDPOINT_URL;
  try {
    if (!redisUrl) {
      const redis = await startRedisServer();
      started.push(redis);
      redisUrl = redis.url;
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
  project.provide('redisUrl', redisUrl);
  project.provide('awsEndpointUrl', awsEndpointUrl);
  return async () => {
    await Promise.all(started.map((s) => s.stop()));
  };
}
