/**
 * Wiring: config → adapters → domain services → Slack app, workers, HTTP server.
 * Owns graceful shutdown: stop taking Slack requests, close workers, quit Redis.
 */
import type { Server } from 'node:http';
import type { Redis } from 'ioredis';
import type { EnvOptions } from './config/env.js';
import { loadConfig, type LoadedConfig } from './config/load-config.js';
import { createHttpServer, listen } from './http/server.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import { startWorkers } from './jobs/start-workers.js';
import type { Logger } from './logger.js';
import { createSlackApp, type SlackApp } from './slack/slack-app.js';
import { registerListeners } from './slack/listeners/index.js';
import { createRedis, pingWithTimeout } from './store/redis-connection.js';

export type ServiceRole = 'web' | 'worker' | 'all';

export interface ServiceOptions {
  env: EnvOptions;
  role: ServiceRole;
  logger: Logger;
  /** Already loaded config; otherwise read from env.configPath. */
  loaded?: LoadedConfig;
  /** Host to bind; defaults to all interfaces. */
  host?: string;
}

export interface RunningService {
  port: number;
  server: Server;
  redis: Redis;
  metrics: Metrics;
  slack?: SlackApp;
  stop(): Promise<void>;
}

export async function startService(options: ServiceOptions): Promise<RunningService> {
  const { env, role, logger } = options;
  const loaded = options.loaded ?? (await loadConfig(env.configPath));
  const metrics = createMetrics();
  const redis = createRedis(env.redisUrl);
  redis.on('error', (error) => logger.warn({ err: error }, 'redis connection error'));

  let slack: SlackApp | undefined;
  if (role === 'web' || role === 'all') {
    slack = createSlackApp(env, logger);
    registerListeners(slack.app, { config: loaded.config });
    await slack.start();
  }
  const workers =
    role === 'worker' || role === 'all' ? await startWorkers({ env, loaded, logger, metrics }) : [];

  const server = createHttpServer({
    logger,
    metrics,
    slackListener: slack?.requestListener,
    checkReady: () => pingWithTimeout(redis),
  });
  const port = await listen(server, env.port, options.host);
  logger.info({ port, role, socketMode: Boolean(env.slackAppToken) }, 'aws-access-bot started');

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      logger.info('shutting down');
      // Stop taking new Slack requests first, let in-flight ones finish.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await slack?.stop();
      await Promise.all(workers.map((w) => w.close()));
      await closed;
      await redis.quit().catch(() => redis.disconnect());
      logger.info('stopped');
    })();
    return stopping;
  };
  return { port, server, redis, metrics, slack, stop };
}
