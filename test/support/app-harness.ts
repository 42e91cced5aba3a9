/**
 * Runs the real service (Bolt HTTP receiver, HTTP server, Redis, workers) on an ephemeral port
 * against the fake Slack Web API, real Redis and moto.
 */
import { pino } from 'pino';
import type { EnvOptions } from '../../src/config/env.js';
import type { LoadedConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logger.js';
import { staticTemplateCatalog } from '../../src/domain/static-catalogs.js';
import {
  startService,
  type RunningService,
  type ServiceAdapters,
  type ServiceOptions,
  type ServiceRole,
} from '../../src/main.js';
import { startFakeSlack, type FakeSlack } from './fake-slack.js';
import { awsEndpointUrl, redisUrl, testConfig, testRedis } from './services.js';
import { RecordingGrantEngine } from './recording-grant-engine.js';
import { postToSlackEvents, TEST_HMAC_KEY, TEST_SIGNING_SECRET, type SignOptions } from './slack-request.js';
import { TEST_TEMPLATES } from './test-templates.js';

export const TEST_BOT_TOKEN = 'xoxb-test-0000-bot-token';

export interface TestApp {
  baseUrl: string;
  fake: FakeSlack;
  service: RunningService;
  loaded: LoadedConfig;
  env: EnvOptions;
  /** The grant engine the app uses (a recording one unless the test injected another). */
  grants: RecordingGrantEngine;
  post(body: string, options?: SignOptions): ReturnType<typeof postToSlackEvents>;
  stop(): Promise<void>;
}

export interface TestAppOptions {
  role?: ServiceRole;
  loaded?: LoadedConfig;
  fake?: FakeSlack;
  env?: Partial<EnvOptions>;
  /** Defaults: a RecordingGrantEngine, the config's static accounts and TEST_TEMPLATES. */
  adapters?: ServiceAdapters;
  /**
   * Extra service options (clock, worker tuning, reconcile scheduling). In role `web` the intake
   * worker runs in the same process unless `intakeInWebRole: false` (a test of the web role
   * alone): one-line requests are created by it, as a worker process would.
   */
  service?: Pick<ServiceOptions, 'clock' | 'workerOptions' | 'scheduleReconcile' | 'intakeInWebRole'>;
}

export function testEnv(fake: FakeSlack, overrides: Partial<EnvOptions> = {}): EnvOptions {
  return {
    slackBotToken: TEST_BOT_TOKEN,
    slackSigningSecret: TEST_SIGNING_SECRET,
    hmacKey: TEST_HMAC_KEY,
    slackApiUrl: fake.apiUrl,
    redisUrl: redisUrl(),
    awsRegion: 'us-east-1',
    awsEndpointUrl: awsEndpointUrl(),
    configPath: 'unused',
    port: 0,
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...overrides,
  };
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const fake = options.fake ?? (await startFakeSlack());
  const loaded = options.loaded ?? testConfig();
  const env = testEnv(fake, options.env);
  const grants = (options.adapters?.grants as RecordingGrantEngine | undefined) ?? new RecordingGrantEngine();
  const service = await startService({
    intakeInWebRole: true,
    ...options.service,
    adapters: { templates: staticTemplateCatalog(TEST_TEMPLATES), ...options.adapters, grants },
    env,
    role: options.role ?? 'web',
    // TEST_LOG_FILE: the app's log lines go to that file (vitest does not show the worker's stdout).
    logger: createLogger({
      level: env.logLevel,
      ...(process.env.TEST_LOG_FILE
        ? { destination: pino.destination({ dest: process.env.TEST_LOG_FILE, sync: true }) }
        : {}),
    }),
    loaded,
    host: '127.0.0.1',
  });
  const baseUrl = `http://127.0.0.1:${service.port}`;
  return {
    baseUrl,
    fake,
    service,
    loaded,
    env,
    grants,
    post: (body, signOptions) => postToSlackEvents(baseUrl, body, signOptions),
    stop: async () => {
      await service.stop();
      await fake.stop();
      const { cleanup } = await testRedis(loaded.config.redis.prefix);
      await cleanup();
    },
  };
}
