/**
 * A worker-role process for the crash test (test/integration/jobs/stalled-revoke.spec.ts): the
 * real service with role `worker` against the Redis, moto and fake Slack named in the
 * environment. With SLOW_DELETE_ROLE_MS set, the role's DeleteRole call (the last step of a
 * revoke) stalls that long, so the parent can kill the process in the middle of a revoke.
 * Prints READY when the workers run and DELETE_ROLE_REACHED when a revoke gets there.
 *
 * Env: REDIS_URL, AWS_ENDPOINT_URL, SLACK_API_URL, SLACK_BOT_TOKEN, TEST_REDIS_PREFIX,
 * TEST_TEMPLATES_DIR, SLOW_DELETE_ROLE_MS (optional), LOCK_MS (BullMQ lock duration),
 * SHUTDOWN_TIMEOUT_MS (optional: the service's shutdown deadline; test/e2e/graceful-shutdown.spec.ts),
 * REVOKE_PER_ACCOUNT (optional: `revocation.perAccount`, revocations at once in one account).
 * Prints STOPPED before it exits on SIGTERM.
 */
import { systemClock } from '../../src/clock.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAwsServices } from '../../src/aws/create-aws-services.js';
import { readEnvOptions } from '../../src/config/env.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logger.js';
import { startService } from '../../src/main.js';
import { createRedis, type RedisTarget } from '../../src/store/redis-connection.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const configFile = path.join(fixtures, 'config.yaml');
const config = parseConfigText(configFile, readFileSync(configFile, 'utf8'));
config.redis.prefix = process.env.TEST_REDIS_PREFIX!;
config.templates.directory = process.env.TEST_TEMPLATES_DIR!;
if (process.env.REVOKE_PER_ACCOUNT) config.revocation.perAccount = Number(process.env.REVOKE_PER_ACCOUNT);
// The test run's Redis topology (set by setup-env.ts): a cluster or Sentinels, or REDIS_URL alone.
const target = JSON.parse(process.env.TEST_REDIS_TARGET ?? 'null') as RedisTarget | null;
if (target?.cluster) config.redis.cluster = target.cluster;
if (target?.sentinel) config.redis.sentinel = target.sentinel;
const loaded = { file: configFile, baseDir: fixtures, config };
const env = { ...readEnvOptions(), port: 0, logLevel: process.env.LOG_LEVEL ?? 'silent' };
const logger = createLogger({ level: env.logLevel });
const slowMs = Number(process.env.SLOW_DELETE_ROLE_MS ?? '0');
const lockMs = Number(process.env.LOCK_MS ?? '2000');
const shutdownTimeoutMs = process.env.SHUTDOWN_TIMEOUT_MS
  ? Number(process.env.SHUTDOWN_TIMEOUT_MS)
  : undefined;

const redis = createRedis(target ?? env.redisUrl);
const aws = await createAwsServices({
  clock: systemClock,
  env,
  loaded,
  redis,
  logger,
  maxAttempts: 2,
  sleep: async () => undefined,
});
if (slowMs > 0) {
  for (const account of config.aws.accounts) {
    const iam = await aws.accountClients.iam(account.id);
    iam.middlewareStack.add(
      (next, context) => async (args) => {
        if ((context as { commandName?: string }).commandName === 'DeleteRoleCommand') {
          process.stdout.write('DELETE_ROLE_REACHED\n');
          await new Promise((r) => setTimeout(r, slowMs));
        }
        return next(args);
      },
      { step: 'initialize', name: 'slowDeleteRole' },
    );
  }
}

const service = await startService({
  env,
  role: 'worker',
  logger,
  loaded,
  host: '127.0.0.1',
  adapters: { grants: aws.grants, templates: aws.templates, accounts: aws.accounts },
  scheduleReconcile: false,
  // Short locks so a killed worker's job is found stalled within seconds.
  workerOptions: { lockDuration: lockMs, stalledInterval: Math.max(500, lockMs / 2) },
  ...(shutdownTimeoutMs ? { shutdown: { timeoutMs: shutdownTimeoutMs } } : {}),
});
process.stdout.write('READY\n');
process.on('SIGTERM', () => {
  void service
    .stop()
    .then(() => redis.quit())
    .then(() => process.stdout.write('STOPPED\n'))
    .finally(() => process.exit(0));
});
