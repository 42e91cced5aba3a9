/**
 * Hygiene test support: IAM users generated in moto whose truth the test knows, an
 * AccountClients on moto (STS AssumeRole of the broker role; moto hands out credentials acting
 * in that account without checking the role exists) that counts every IAM call per account,
 * and a HygieneContext wired to real Redis and the fake Slack.
 */
import {
  CreateAccessKeyCommand,
  CreateLoginProfileCommand,
  CreateUserCommand,
  CreateVirtualMFADeviceCommand,
  EnableMFADeviceCommand,
  UpdateAccessKeyCommand,
  UpdateAccountPasswordPolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import { Writable } from 'node:stream';
import type { AccountClients } from '../../../src/aws/account-clients.js';
import { createBrokerSessions } from '../../../src/aws/create-aws-services.js';
import { parseConfigText } from '../../../src/config/load-config.js';
import type { EnvOptions } from '../../../src/config/env.js';
import type { LoadedConfig } from '../../../src/config/load-config.js';
import type { Clock } from '../../../src/domain/ports.js';
import type { HygieneContext } from '../../../src/jobs/hygiene-context.js';
import { hygieneContext } from '../../../src/jobs/hygiene-workers.js';
import { createLogger } from '../../../src/logger.js';
import type { FakeSlack } from '../../support/fake-slack.js';
import { testEnv } from '../../support/app-harness.js';
import { awsEndpointUrl } from '../../support/services.js';

export const ACCOUNT_A = '111111111111';
export const ACCOUNT_B = '222222222222';
export const DAY_MS = 86_400_000;

/** What the test made: one IAM user. */
export interface UserTruth {
  name: string;
  /** Per key slot: active, and whether the test used it (so it has a last-used date). */
  keys: Array<{ active: boolean; used: boolean }>;
  password: boolean;
  mfa: boolean;
  owner:
    | { via: 'slack-tag'; slackUserId: string }
    | { via: 'email-tag'; email: string; slackUserId?: string }
    | { via: 'identity-map'; slackUserId: string }
    | { via: 'none' };
}

/** The rule that generates user i; every property varies with a different modulus. */
export function userTruth(i: number, prefix = 'user'): UserTruth {
  const name = `${prefix}-${String(i).padStart(3, '0')}`;
  const keyCount = i % 3;
  const keys = Array.from({ length: keyCount }, (_, j) => ({
    active: !(i % 7 === 0 && j === keyCount - 1),
    used: j === 0 && i % 2 === 0,
  }));
  const password = i % 4 === 0 || i % 4 === 1;
  const mfa = password && i % 8 === 0;
  const ownerKind = i % 5;
  // Slack ids unique per generated population, so two accounts never share an owner by accident.
  const tag = `${prefix.toUpperCase().replace(/[^A-Z0-9]/g, '')}${i}`;
  const owner: UserTruth['owner'] =
    ownerKind === 0
      ? { via: 'slack-tag', slackUserId: `UTAG${tag}` }
      : ownerKind === 1
        ? { via: 'email-tag', email: `${name}@example.com`, slackUserId: `UMAIL${tag}` }
        : ownerKind === 2
          ? { via: 'email-tag', email: `${name}@nowhere.example` }
          : ownerKind === 3
            ? { via: 'identity-map', slackUserId: `UMAP${tag}` }
            : { via: 'none' };
  return { name, keys, password, mfa, owner };
}

export function ownerOf(truth: UserTruth): string | undefined {
  return truth.owner.via === 'none' ? undefined : truth.owner.slackUserId;
}

async function pool<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** Creates the users in moto exactly as their truth says. */
export async function createUsers(iam: IAMClient, users: UserTruth[]): Promise<void> {
  await pool(users, 8, async (u) => {
    const tags =
      u.owner.via === 'slack-tag'
        ? [{ Key: 'slack-user', Value: u.owner.slackUserId }]
        : u.owner.via === 'email-tag'
          ? [{ Key: 'email', Value: u.owner.email }]
          : [{ Key: 'team', Value: 'platform' }];
    await iam.send(new CreateUserCommand({ UserName: u.name, Tags: tags }));
    for (const key of u.keys) {
      const created = await iam.send(new CreateAccessKeyCommand({ UserName: u.name }));
      const id = created.AccessKey!.AccessKeyId!;
      if (key.used) {
        // moto records the key's last use on any request signed with it.
        const sts = new STSClient({
          region: 'us-east-1',
          endpoint: awsEndpointUrl(),
          credentials: { accessKeyId: id, secretAccessKey: created.AccessKey!.SecretAccessKey! },
        });
        await sts.send(new GetCallerIdentityCommand({}));
      }
      if (!key.active)
        await iam.send(new UpdateAccessKeyCommand({ UserName: u.name, AccessKeyId: id, Status: 'Inactive' }));
    }
    if (u.password)
      await iam.send(new CreateLoginProfileCommand({ UserName: u.name, Password: 'Correct-Horse-42!' }));
    if (u.mfa) {
      const device = await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: u.name }));
      await iam.send(
        new EnableMFADeviceCommand({
          UserName: u.name,
          SerialNumber: device.VirtualMFADevice!.SerialNumber!,
          AuthenticationCode1: '123456',
          AuthenticationCode2: '654321',
        }),
      );
    }
  });
}

export async function setWeakPasswordPolicy(iam: IAMClient): Promise<void> {
  await iam.send(
    new UpdateAccountPasswordPolicyCommand({
      MinimumPasswordLength: 8,
      RequireSymbols: true,
      RequireNumbers: true,
      RequireUppercaseCharacters: true,
      RequireLowercaseCharacters: true,
      MaxPasswordAge: 90,
      PasswordReusePrevention: 24,
    }),
  );
}

/** Adds the identity-map entries and Slack users the truths refer to. */
export function wireOwners(
  users: UserTruth[],
  accountId: string,
  loaded: LoadedConfig,
  fake: FakeSlack,
): void {
  for (const u of users) {
    if (u.owner.via === 'identity-map')
      loaded.config.identities.map[u.owner.slackUserId] = {
        principal: `arn:aws:iam::${accountId}:user/${u.name}`,
      };
    if (u.owner.via === 'email-tag' && u.owner.slackUserId)
      fake.addUser({ id: u.owner.slackUserId, email: u.owner.email });
    if (u.owner.via === 'slack-tag') fake.addUser({ id: u.owner.slackUserId });
  }
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
  // The production broker session cache, against moto, with a call counter on each IAM client.
  const sessions = createBrokerSessions({
    env: { awsRegion: 'us-east-1', awsEndpointUrl: awsEndpointUrl() } as EnvOptions,
    config: parseConfigText(
      'hygiene-test.yaml',
      'slack: { channels: { approvals: C0A, audit: C0B, security: C0C } }\naws: { brokerRoleName: aws-access-broker }\napproval: { rules: [{ name: any, autoApprove: true }] }\n',
    ),
  });
  const counted = new WeakSet<IAMClient>();
  const accounts: AccountClients = {
    sts: (accountId) => sessions.sts(accountId),
    iam: async (accountId) => {
      const client = await sessions.iam(accountId);
      if (counted.has(client)) return client;
      counted.add(client);
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const command = context.commandName ?? 'unknown';
          const byCommand = calls.get(accountId) ?? new Map<string, number>();
          byCommand.set(command, (byCommand.get(command) ?? 0) + 1);
          calls.set(accountId, byCommand);
          hook?.(accountId, command, args.input);
          return next(args);
        },
        { step: 'initialize', name: 'countIamCalls' },
      );
      return client;
    },
  };
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
}): HygieneContext {
  const env = testEnv(input.fake);
  return hygieneContext({
    env,
    config: input.loaded.config,
    logger: createLogger({ level: input.logStream ? 'debug' : env.logLevel, destination: input.logStream }),
    connection: input.redis,
    accounts: input.accounts,
    clock: input.clock,
    slack: new WebClient(env.slackBotToken, {
      slackApiUrl: env.slackApiUrl,
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 0 },
    }),
    reportOptions: { baseDelayMs: 5, maxDelayMs: 20 },
  });
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
