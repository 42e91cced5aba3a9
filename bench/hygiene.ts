/**
 * 5. The credential sweep (src/jobs/hygiene-sweep.ts) against moto for accounts of 200 and
 * 1,000 generated IAM users: wall time and IAM calls by command, first sweep (report generated,
 * owners' e-mails looked up in Slack) and second sweep (report still fresh, e-mails cached).
 * Users are generated with the rule test/integration/hygiene/support.ts uses: every property
 * varies with a different modulus, so the expected findings are known.
 */
import { randomBytes } from 'node:crypto';
import {
  CreateAccessKeyCommand,
  CreateLoginProfileCommand,
  CreateUserCommand,
  CreateVirtualMFADeviceCommand,
  EnableMFADeviceCommand,
  UpdateAccessKeyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { WebClient } from '@slack/web-api';
import { Redis } from 'ioredis';
import { countingBrokerSessions } from '../test/support/counting-account-clients.js';
import type { LoadedConfig } from '../src/config/load-config.js';
import { hygieneContext } from '../src/jobs/hygiene-workers.js';
import { sweepAccount } from '../src/jobs/hygiene-sweep.js';
import { createLogger } from '../src/logger.js';
import { startFakeSlack, type FakeSlack } from '../test/support/fake-slack.js';
import { benchConfig } from './support/config.js';
import { startInfra } from './support/infra.js';
import { checksMarkdown, table, type BenchResult, type Check } from './support/report.js';
import { ms, pool } from './support/stats.js';

const DAY_MS = 86_400_000;
const POPULATIONS = [
  { accountId: '111111111111', users: 200 },
  { accountId: '222222222222', users: 1000 },
];

interface UserTruth {
  name: string;
  keys: Array<{ active: boolean; used: boolean }>;
  password: boolean;
  mfa: boolean;
  owner:
    | { via: 'slack-tag' | 'email-tag' | 'identity-map'; slackUserId?: string; email?: string }
    | { via: 'none' };
}

/** The same generator as the hygiene integration tests. */
function userTruth(i: number, prefix: string): UserTruth {
  const name = `${prefix}-${String(i).padStart(4, '0')}`;
  const keyCount = i % 3;
  const keys = Array.from({ length: keyCount }, (_, j) => ({
    active: !(i % 7 === 0 && j === keyCount - 1),
    used: j === 0 && i % 2 === 0,
  }));
  const password = i % 4 === 0 || i % 4 === 1;
  const mfa = password && i % 8 === 0;
  const tag = `${prefix.toUpperCase().replace(/[^A-Z0-9]/g, '')}${i}`;
  const kind = i % 5;
  const owner: UserTruth['owner'] =
    kind === 0
      ? { via: 'slack-tag', slackUserId: `UTAG${tag}` }
      : kind === 1
        ? { via: 'email-tag', email: `${name}@example.com`, slackUserId: `UMAIL${tag}` }
        : kind === 2
          ? { via: 'email-tag', email: `${name}@nowhere.example` }
          : kind === 3
            ? { via: 'identity-map', slackUserId: `UMAP${tag}` }
            : { via: 'none' };
  return { name, keys, password, mfa, owner };
}

async function createUsers(iam: IAMClient, users: UserTruth[], endpoint: string): Promise<void> {
  await pool(users, 8, async (u) => {
    const tags =
      u.owner.via === 'slack-tag'
        ? [{ Key: 'slack-user', Value: u.owner.slackUserId! }]
        : u.owner.via === 'email-tag'
          ? [{ Key: 'email', Value: u.owner.email! }]
          : [{ Key: 'team', Value: 'platform' }];
    await iam.send(new CreateUserCommand({ UserName: u.name, Tags: tags }));
    for (const key of u.keys) {
      const created = await iam.send(new CreateAccessKeyCommand({ UserName: u.name }));
      const id = created.AccessKey!.AccessKeyId!;
      if (key.used) {
        // moto records a key's last use on any request signed with it.
        const sts = new STSClient({
          region: 'us-east-1',
          endpoint,
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

function wireOwners(users: UserTruth[], accountId: string, loaded: LoadedConfig, fake: FakeSlack): void {
  for (const u of users) {
    if (u.owner.via === 'identity-map')
      loaded.config.identities.map[u.owner.slackUserId!] = {
        principal: `arn:aws:iam::${accountId}:user/${u.name}`,
      };
    if (u.owner.via === 'email-tag' && u.owner.slackUserId)
      fake.addUser({ id: u.owner.slackUserId, email: u.owner.email });
    if (u.owner.via === 'slack-tag') fake.addUser({ id: u.owner.slackUserId! });
  }
}

interface SweepRow {
  accountId: string;
  users: number;
  setupMs: number;
  sweeps: Array<{ ms: number; iamCalls: Record<string, number>; slackCalls: number; findings: number }>;
  expected: { unusedKeys: number; consoleWithoutMfa: number };
  found: { unusedKeys: number; consoleWithoutMfa: number };
}

export async function hygieneBench(): Promise<BenchResult> {
  const started = performance.now();
  const infra = await startInfra({ moto: true });
  const endpoint = infra.awsEndpointUrl!;
  const fake = await startFakeSlack();
  const redis = new Redis(infra.redisUrl, { maxRetriesPerRequest: null });
  const checks: Check[] = [];
  const rows: SweepRow[] = [];
  try {
    const loaded = benchConfig(`bench-hygiene-${randomBytes(4).toString('hex')}`);
    const calls = new Map<string, Map<string, number>>();
    const accounts = countingBrokerSessions(endpoint, (accountId, command) => {
      const byCommand = calls.get(accountId) ?? new Map<string, number>();
      const name = command.replace(/Command$/, '');
      byCommand.set(name, (byCommand.get(name) ?? 0) + 1);
      calls.set(accountId, byCommand);
    });
    const populations = POPULATIONS.map((p) => ({
      ...p,
      truths: Array.from({ length: p.users }, (_, i) => userTruth(i, `u${p.users}`)),
    }));
    const setupMs = new Map<string, number>();
    for (const p of populations) {
      const t0 = performance.now();
      await createUsers(await accounts.iam(p.accountId), p.truths, endpoint);
      setupMs.set(p.accountId, performance.now() - t0);
      wireOwners(p.truths, p.accountId, loaded, fake);
      console.error(
        `  hygiene: ${p.users} users created in ${p.accountId} in ${ms(performance.now() - t0)} ms`,
      );
    }
    const createdBy = Date.now();
    const ctx = hygieneContext({
      env: {
        redisUrl: infra.redisUrl,
        awsRegion: 'us-east-1',
        configPath: loaded.file,
        port: 0,
        logLevel: 'silent',
        nodeEnv: 'production',
      },
      config: loaded.config,
      logger: createLogger({ level: 'silent' }),
      connection: redis,
      accounts,
      clock: { now: () => createdBy + 100 * DAY_MS },
      slack: new WebClient('xoxb-bench', {
        slackApiUrl: fake.apiUrl,
        rejectRateLimitedCalls: true,
        retryConfig: { retries: 0 },
      }),
      // moto generates the report at once; the poll's back-off is the test suite's.
      reportOptions: { baseDelayMs: 5, maxDelayMs: 20 },
    });
    for (const p of populations) {
      const sweeps: SweepRow['sweeps'] = [];
      for (let k = 0; k < 2; k++) {
        calls.delete(p.accountId);
        fake.clearCalls();
        const t0 = performance.now();
        const result = await sweepAccount(ctx, p.accountId, { mode: 'report' });
        sweeps.push({
          ms: performance.now() - t0,
          iamCalls: Object.fromEntries(calls.get(p.accountId) ?? []),
          slackCalls: fake.calls.length,
          findings: result.findings.length,
        });
        if (k === 0) {
          const count = (kind: string) => result.findings.filter((f) => f.kind === kind).length;
          rows.push({
            accountId: p.accountId,
            users: p.users,
            setupMs: setupMs.get(p.accountId)!,
            sweeps,
            expected: {
              unusedKeys: p.truths.reduce((a, u) => a + u.keys.filter((key) => key.active).length, 0),
              consoleWithoutMfa: p.truths.filter((u) => u.password && !u.mfa).length,
            },
            found: { unusedKeys: count('unused-key'), consoleWithoutMfa: count('console-without-mfa') },
          });
        }
      }
      console.error(
        `  hygiene: sweep of ${p.users} users: ${sweeps.map((s) => `${ms(s.ms)} ms`).join(', then ')}`,
      );
    }
    const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
    const [small, large] = rows;
    checks.push({
      what: 'IAM calls per sweep are the same for 200 and 1,000 users',
      ok: JSON.stringify(small!.sweeps[0]!.iamCalls) === JSON.stringify(large!.sweeps[0]!.iamCalls),
      detail: `${total(small!.sweeps[0]!.iamCalls)} vs ${total(large!.sweeps[0]!.iamCalls)} calls`,
    });
    for (const r of rows) {
      checks.push({
        what: `${r.users} users: the sweep finds every active unused key and every console user without MFA`,
        ok:
          r.found.unusedKeys === r.expected.unusedKeys &&
          r.found.consoleWithoutMfa === r.expected.consoleWithoutMfa,
        detail: `unused keys ${r.found.unusedKeys}/${r.expected.unusedKeys}, console without MFA ${r.found.consoleWithoutMfa}/${r.expected.consoleWithoutMfa}`,
      });
    }
    const callText = (c: Record<string, number>) =>
      Object.entries(c)
        .sort()
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
    const markdown = [
      table(
        ['users', 'sweep', 'time ms', 'IAM calls', 'IAM calls by command', 'Slack API calls', 'findings'],
        rows.flatMap((r) =>
          r.sweeps.map((s, k) => [
            r.users,
            k === 0 ? 'first (e-mails looked up in Slack)' : 'second (e-mails cached)',
            ms(s.ms),
            total(s.iamCalls),
            callText(s.iamCalls),
            s.slackCalls,
            s.findings,
          ]),
        ),
      ),
      '',
      `Setting up the users in moto (not part of the sweep): ${rows.map((r) => `${r.users} users ${ms(r.setupMs / 1000)} s`).join(', ')}.`,
      '',
      checksMarkdown(checks),
    ].join('\n');
    return {
      name: 'hygiene',
      title: 'Credential hygiene sweep',
      elapsedMs: performance.now() - started,
      markdown,
      checks,
      data: { rows },
    };
  } finally {
    await redis.quit().catch(() => redis.disconnect());
    await fake.stop();
    await infra.stop();
  }
}
