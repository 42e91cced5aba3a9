/**
 * Hygiene test support: IAM users generated in moto whose truth the test knows, an
 * AccountClients on moto (STS AssumeRole of the broker role; moto hands out credentials acting
 * in that account without checking the role exists) that counts every IAM call per account,
 * and a HygieneContext wired to real Redis and the fake Slack.
 */
import type { IAMClient } from '@aws-sdk/client-iam';
import { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import { Writable } from 'node:stream';
import type { AccountClients } from '../../../src/aws/account-clients.js';
import type { LoadedConfig } from '../../../src/config/load-config.js';
import type { AppConfig } from '../../../src/config/schema.js';
import type { Clock } from '../../../src/domain/ports.js';
import type { HygieneContext } from '../../../src/jobs/hygiene-context.js';
import { hygieneContext } from '../../../src/jobs/hygiene-workers.js';
import { createLogger } from '../../../src/logger.js';
import { slackHygieneAdapters } from '../../../src/slack/hygiene/adapters.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { testEnv } from '../../support/app-harness.js';
import { awsEndpointUrl, resetMoto, testConfig, testRedis } from '../../support/services.js';
import { countingBrokerSessions } from '../../support/counting-account-clients.js';
import { createIamUsers, ownerOf, type UserTruth } from '../../support/iam-population.js';

export const ACCOUNT_A = '111111111111';
export const ACCOUNT_B = '222222222222';
export {
  DAY_MS,
  ownerOf,
  setWeakPasswordPolicy,
  userTruth,
  wireOwners,
  type UserTruth,
} from '../../support/iam-population.js';

/** Creates the users in moto exactly as their truth says. */
export function createUsers(iam: IAMClient, users: UserTruth[]): Promise<void> {
  return createIamUsers(iam, users, awsEndpointUrl());
}

/**
 * One test's services: moto reset, a fake Slack, the test config (after `mutate`) and a Redis
 * client on its prefix; `cleanup` stops the fake Slack and clears the prefix.
 */
export async function startHygieneServices(mutate?: (config: AppConfig) => void): Promise<{
  fake: FakeSlack;
  loaded: LoadedConfig;
  redis: Redis;
  cleanup: () => Promise<void>;
}> {
  await resetMoto();
  const fake = await startFakeSlack();
  const loaded = testConfig(mutate);
  const { redis, cleanup } = await testRedis(loaded.config.redis.prefix);
  return {
    fake,
    loaded,
    redis,
    cleanup: async () => {
      await fake.stop();
      await cleanup();
    },
  };
}

export interface CountingAccounts extends AccountClients {
  /** accountId → command name → calls */
  calls: Map<string, Map<string, number>>;
  total(accountId: string): number;
  reset(): void;
}

export function countingAccountClients(
  hook?: (accountId: string, command: string, input: unknown) => void,
): CountingAccounts {
  const calls = new Map<string, Map<string, number>>();
  const accounts = countingBrokerSessions(awsEndpointUrl(), (accountId, command, input) => {
    const byCommand = calls.get(accountId) ?? new Map<string, number>();
    byCommand.set(command, (byCommand.get(command) ?? 0) + 1);
    calls.set(accountId, byCommand);
    hook?.(accountId, command, input);
  });
  return {
    ...accounts,
    calls,
    total: (accountId) => [...(calls.get(accountId)?.values() ?? [])].reduce((a, b) => a + b, 0),
    reset: () => calls.clear(),
  };
}

export class ManualClock implements Clock {
  constructor(public at: number) {}
  now(): number {
    return this.at;
  }
  set(ms: number): void {
    this.at = ms;
  }
}

/** Log lines captured as objects (pino JSON), to assert what operators would read. */
export function captureLogs(): { lines: Array<Record<string, unknown>>; stream: Writable } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

export function makeContext(input: {
  loaded: LoadedConfig;
  fake: FakeSlack;
  redis: Redis;
  accounts: AccountClients;
  clock: Clock;
  logStream?: Writable;
  /** Waits out a rate-limited Slack directory page. */
  sleep?: (ms: number) => Promise<void>;
}): HygieneContext {
  const env = testEnv(input.fake);
  const logger = createLogger({
    level: input.logStream ? 'debug' : env.logLevel,
    destination: input.logStream,
  });
  const slack = new WebClient(env.slackBotToken, {
    slackApiUrl: env.slackApiUrl,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
  });
  return hygieneContext({
    ...slackHygieneAdapters(slack, input.loaded.config, { logger, sleep: input.sleep }),
    config: input.loaded.config,
    logger,
    connection: input.redis,
    accounts: input.accounts,
    clock: input.clock,
    reportOptions: { baseDelayMs: 5, maxDelayMs: 20 },
  });
}

/** The Slack side of the hygiene workers on the fake Slack, as the service wires it. */
export function slackAdapters(fake: FakeSlack, config: AppConfig) {
  const env = testEnv(fake);
  const slack = new WebClient(env.slackBotToken, {
    slackApiUrl: env.slackApiUrl,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
  });
  return slackHygieneAdapters(slack, config, { logger: createLogger({ level: 'silent' }) });
}

/**
 * The findings the truth implies when evaluated `days` after creation with thresholds `t`
 * (everything was created within the last minutes, so ages are exactly `days`), as
 * `kind|user|slot|neverUsed|owner` strings.
 */
export function expectedFindings(
  users: UserTruth[],
  accountId: string,
  days: number,
  t: { unusedKeyDays: number; rotationDays: number; unusedPasswordDays: number },
  account: { weakPolicy: boolean },
): string[] {
  const out: string[] = [];
  for (const u of users) {
    const owner = ownerOf(u) ?? 'unowned';
    u.keys.forEach((k, j) => {
      if (!k.active) return;
      if (days >= t.unusedKeyDays) out.push(`unused-key|${u.name}|${j + 1}|${!k.used}|${owner}`);
      if (days >= t.rotationDays) out.push(`key-past-rotation|${u.name}|${j + 1}|${!k.used}|${owner}`);
    });
    if (u.password && days >= t.unusedPasswordDays) out.push(`unused-password|${u.name}|||${owner}`);
    if (u.password && !u.mfa) out.push(`console-without-mfa|${u.name}|||${owner}`);
  }
  // moto: root MFA is never on, root keys never present.
  out.push(`root-mfa-off|${accountId}|||`);
  out.push(
    account.weakPolicy ? `password-policy-weak|${accountId}|||` : `password-policy-missing|${accountId}|||`,
  );
  return out.sort();
}

export function findingKeys(
  findings: Array<{
    kind: string;
    accountId: string;
    userName?: string;
    key?: { slot: number; neverUsed: boolean };
    owner?: { kind: string; slackUserId?: string };
  }>,
): string[] {
  return findings
    .map((f) => {
      const owner = f.owner ? (f.owner.kind === 'slack' ? f.owner.slackUserId : 'unowned') : '';
      return `${f.kind}|${f.userName ?? f.accountId}|${f.key?.slot ?? ''}|${f.key ? f.key.neverUsed : ''}|${owner}`;
    })
    .sort();
}
