/**
 * The whole service against real Redis, moto (through the real AWS grant engine) and the fake
 * Slack, for the grant-lifecycle tests: grants that end, warn, extend and get reconciled.
 */
import { systemClock } from '../../src/clock.js';
import { fileURLToPath } from 'node:url';
import { GetRoleCommand, GetRolePolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import type { Redis } from 'ioredis';
import type { AppConfig } from '../../src/config/schema.js';
import { createAwsServices, type AwsServices } from '../../src/aws/create-aws-services.js';
import type { AccessRequest } from '../../src/domain/access-request.js';
import type { AuditEvent } from '../../src/domain/audit-event.js';
import type { Clock } from '../../src/domain/ports.js';
import { jobId, QueueName } from '../../src/jobs/queues.js';
import { createLogger } from '../../src/logger.js';
import type { ServiceOptions } from '../../src/main.js';
import { RedisAuditLog } from '../../src/store/audit-log.js';
import { startTestApp, testEnv, type TestApp } from './app-harness.js';
import { startFakeSlack } from './fake-slack.js';
import { connectRedis, testConfig } from './services.js';
import {
  APPROVER1,
  approverMessage,
  click,
  command,
  REQUESTER,
  seedPeople,
  waitUntil,
} from './slack-flow.js';

export const SANDBOX = '222222222222';
export const TEMPLATE = 'short-reader';
export const TEMPLATES_DIR = fileURLToPath(
  new URL('../integration/jobs/fixtures/templates', import.meta.url),
);

export interface LifecycleApp extends TestApp {
  aws: AwsServices;
  iam: IAMClient;
  redis: Redis;
}

export async function startLifecycleApp(
  options: {
    mutate?: (config: AppConfig) => void;
    clock?: Clock;
    /** Default `all`; `web` runs no workers (another process may). */
    role?: 'web' | 'all';
    service?: Pick<ServiceOptions, 'workerOptions' | 'scheduleReconcile'>;
  } = {},
): Promise<LifecycleApp> {
  const fake = await startFakeSlack();
  seedPeople(fake);
  fake.addUser({ id: 'U0ADMIN' });
  const loaded = testConfig((config) => {
    config.templates.directory = TEMPLATES_DIR;
    options.mutate?.(config);
  });
  const redis = connectRedis();
  const env = testEnv(fake);
  const aws = await createAwsServices({
    env,
    loaded,
    redis,
    logger: createLogger({ level: 'silent' }),
    clock: options.clock ?? systemClock,
    maxAttempts: 2,
    // moto makes a role assumable at once; do not wait for IAM consistency.
    sleep: async () => undefined,
  });
  const app = await startTestApp({
    fake,
    loaded,
    role: options.role ?? 'all',
    adapters: { grants: aws.grants, templates: aws.templates, accounts: aws.accounts },
    service: { scheduleReconcile: false, ...options.service, clock: options.clock },
  });
  const iam = await aws.accountClients.iam(SANDBOX);
  return {
    ...app,
    aws,
    iam,
    redis,
    stop: async () => {
      await app.stop();
      await redis.quit();
    },
  };
}

/** Asks for `duration` of short-reader on the sandbox and has APPROVER1 approve it; waits until active. */
export async function activeGrant(
  app: TestApp,
  duration: string,
  index = 0,
): Promise<{ request: AccessRequest; message: Awaited<ReturnType<typeof approverMessage>> }> {
  await command(app, `sandbox ${TEMPLATE} ${duration} checking the lifecycle`, REQUESTER);
  const message = await approverMessage(app.fake, index);
  await click(app, APPROVER1, 'request_approve', message);
  const request = await waitUntil(async () => {
    const r = await app.service.requests.get(message.requestId);
    return r?.state === 'active' ? r : undefined;
  }, `request ${message.requestId} to become active`);
  // The grant's jobs are scheduled just after the request turns active.
  const grants = app.service.queues.get(QueueName.grants);
  await waitUntil(() => grants.getJob(jobId.revoke(request.id)), 'the revoke job');
  if (request.expiresAt! - app.loaded.config.durations.expiryWarning * 1000 > Date.now()) {
    await waitUntil(() => grants.getJob(jobId.warn(request.id)), 'the warn job');
  }
  return { request, message };
}

export async function roleExists(iam: IAMClient, requestId: string): Promise<boolean> {
  try {
    await iam.send(new GetRoleCommand({ RoleName: `aws-access-${requestId}` }));
    return true;
  } catch (error) {
    if ((error as Error).name === 'NoSuchEntityException') return false;
    throw error;
  }
}

/** The date in the role's inline `expiry` policy (Deny after aws:CurrentTime). */
export async function expiryPolicyDate(iam: IAMClient, requestId: string): Promise<string> {
  const policy = await iam.send(
    new GetRolePolicyCommand({ RoleName: `aws-access-${requestId}`, PolicyName: 'expiry' }),
  );
  const doc = JSON.parse(decodeURIComponent(policy.PolicyDocument ?? '{}')) as {
    Statement: Array<{ Condition?: { DateGreaterThan?: Record<string, string> } }>;
  };
  return doc.Statement[0]?.Condition?.DateGreaterThan?.['aws:CurrentTime'] ?? '';
}

export async function auditEvents(app: TestApp, requestId?: string): Promise<AuditEvent[]> {
  const log = new RedisAuditLog(app.service.redis, app.loaded.config.redis.prefix);
  const entries = await log.read('-', 10_000);
  return entries.map((e) => e.event).filter((e) => !requestId || e.requestId === requestId);
}

/** Audit events that moved a request into `revoked`. */
export function revokedEvents(events: AuditEvent[]): AuditEvent[] {
  return events.filter((e) => e.outcome === 'ok' && e.stateAfter === 'revoked');
}

/** What runReconcile needs, built from a running lifecycle app. */
export function reconcileDeps(app: LifecycleApp, clock: Clock = { now: () => Date.now() }) {
  return {
    requests: app.service.requests,
    grants: app.aws.grants,
    accounts: app.aws.accounts,
    redis: app.redis,
    redisPrefix: app.loaded.config.redis.prefix,
    clock,
    logger: createLogger({ level: 'silent' }),
    metrics: app.service.metrics,
  };
}
