import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { LoadedConfig } from '../../../src/config/load-config.js';
import { HygieneStore } from '../../../src/store/hygiene-store.js';
import { sweepAccount } from '../../../src/jobs/hygiene-sweep.js';
import type { FakeSlack } from '../../support/fake-slack.js';
import {
  ACCOUNT_A,
  ACCOUNT_B,
  DAY_MS,
  ManualClock,
  captureLogs,
  countingAccountClients,
  createUsers,
  expectedFindings,
  findingKeys,
  makeContext,
  setWeakPasswordPolicy,
  userTruth,
  wireOwners,
  startHygieneServices,
} from './support.js';

/** Commands whose count would grow with the number of users. */
const PER_USER_COMMANDS = [
  'ListAccessKeysCommand',
  'GetUserCommand',
  'ListUserTagsCommand',
  'GetAccessKeyLastUsedCommand',
  'ListMFADevicesCommand',
  'GetLoginProfileCommand',
  'ListUsersCommand',
];

describe('the credential sweep against moto', () => {
  let fake: FakeSlack;
  let loaded: LoadedConfig;
  let redis: Redis;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    ({ fake, loaded, redis, cleanup } = await startHygieneServices());
  });
  afterEach(async () => {
    await cleanup();
  });

  it('reports exactly the expected findings for 200 users with a constant number of IAM read calls', async () => {
    const setup = countingAccountClients();
    const usersA = Array.from({ length: 200 }, (_, i) => userTruth(i));
    const usersB = Array.from({ length: 20 }, (_, i) => userTruth(i, 'small'));
    await createUsers(await setup.iam(ACCOUNT_A), usersA);
    await setWeakPasswordPolicy(await setup.iam(ACCOUNT_A));
    await createUsers(await setup.iam(ACCOUNT_B), usersB);
    wireOwners(usersA, ACCOUNT_A, loaded, fake);
    wireOwners(usersB, ACCOUNT_B, loaded, fake);
    // A workspace with more people than IAM users, so the directory takes several pages.
    for (let i = 0; i < 500; i++) fake.addUser({ id: `UPEOPLE${i}`, email: `person-${i}@example.com` });
    const createdBy = Date.now();

    const accounts = countingAccountClients();
    const clock = new ManualClock(createdBy + 100 * DAY_MS);
    const ctx = makeContext({ loaded, fake, redis, accounts, clock });
    const slackCalls = () => {
      const byMethod: Record<string, number> = {};
      for (const c of fake.calls) byMethod[c.method] = (byMethod[c.method] ?? 0) + 1;
      fake.clearCalls();
      return byMethod;
    };
    const a = await sweepAccount(ctx, ACCOUNT_A, { mode: 'report' });
    const slackA = slackCalls();
    // Each account's first sweep of the day reads the directory itself here (cache dropped), so
    // both sweeps pay the full Slack cost and can be compared.
    await redis.del(new HygieneStore(redis, loaded.config.redis.prefix).key('slack-emails'));
    const b = await sweepAccount(ctx, ACCOUNT_B, { mode: 'report' });
    const slackB = slackCalls();

    const t = loaded.config.hygiene;
    expect(findingKeys(a.findings)).toEqual(
      expectedFindings(usersA, ACCOUNT_A, 100, t, { weakPolicy: true }),
    );
    expect(findingKeys(b.findings)).toEqual(
      expectedFindings(usersB, ACCOUNT_B, 100, t, { weakPolicy: false }),
    );
    expect(a.findings.find((f) => f.kind === 'password-policy-weak')?.detail).toMatch(
      /minimum length 8 < 14/,
    );

    // Same calls for 200 users as for 20: one report (not present → generate, poll, get), one
    // summary, one password policy, one page of user details with tags.
    const callsA = Object.fromEntries(accounts.calls.get(ACCOUNT_A)!);
    const callsB = Object.fromEntries(accounts.calls.get(ACCOUNT_B)!);
    expect(callsA).toEqual(callsB);
    expect(callsA).toEqual({
      GetCredentialReportCommand: 2,
      GenerateCredentialReportCommand: 2,
      GetAccountSummaryCommand: 1,
      GetAccountPasswordPolicyCommand: 1,
      GetAccountAuthorizationDetailsCommand: 1,
    });
    for (const command of PER_USER_COMMANDS) expect(callsA[command]).toBeUndefined();

    // Slack calls do not grow with IAM users either: 80 e-mail-tagged users in A, 8 in B, and
    // both sweeps page the directory once (200 people a page) and post once to #security.
    const pages = Math.ceil(fake.users.size / 200);
    expect(pages).toBeGreaterThan(1);
    expect(slackA).toEqual({ 'users.list': pages, 'chat.postMessage': 1 });
    expect(slackB).toEqual(slackA);

    // Kept in Redis for reminders and the digest.
    const stored = await new HygieneStore(redis, loaded.config.redis.prefix).getFindings(ACCOUNT_A);
    expect(stored?.findings).toHaveLength(a.findings.length);
    expect(stored?.userCount).toBe(200);
  });

  it('finds only the time-independent problems when every credential is young', async () => {
    const accounts = countingAccountClients();
    const users = Array.from({ length: 40 }, (_, i) => userTruth(i));
    await createUsers(await accounts.iam(ACCOUNT_A), users);
    wireOwners(users, ACCOUNT_A, loaded, fake);
    const clock = new ManualClock(Date.now() + 30 * DAY_MS);
    const ctx = makeContext({ loaded, fake, redis, accounts, clock });
    const result = await sweepAccount(ctx, ACCOUNT_A, { mode: 'report' });
    expect(findingKeys(result.findings)).toEqual(
      expectedFindings(users, ACCOUNT_A, 30, loaded.config.hygiene, { weakPolicy: false }),
    );
    expect(result.findings.map((f) => f.kind)).not.toContain('unused-key');
  });

  it('resolves owners from the slack-user tag, the email tag through Slack, and the identity map', async () => {
    const accounts = countingAccountClients();
    const users = Array.from({ length: 10 }, (_, i) => userTruth(i));
    await createUsers(await accounts.iam(ACCOUNT_A), users);
    wireOwners(users, ACCOUNT_A, loaded, fake);
    const ctx = makeContext({
      loaded,
      fake,
      redis,
      accounts,
      clock: new ManualClock(Date.now() + 100 * DAY_MS),
    });
    const result = await sweepAccount(ctx, ACCOUNT_A, { mode: 'report' });
    const ownerOf = (name: string) => result.findings.find((f) => f.userName === name)?.owner;
    expect(ownerOf('user-000')).toEqual({ kind: 'slack', slackUserId: 'UTAGUSER0', source: 'tag' });
    expect(ownerOf('user-001')).toEqual({ kind: 'slack', slackUserId: 'UMAILUSER1', source: 'email-tag' });
    expect(ownerOf('user-002')).toMatchObject({ kind: 'unowned' });
    expect(ownerOf('user-008')).toEqual({ kind: 'slack', slackUserId: 'UMAPUSER8', source: 'identity-map' });
    expect(ownerOf('user-004')).toMatchObject({ kind: 'unowned' });
    expect(ownerOf('user-002')).toMatchObject({ kind: 'unowned', reason: expect.stringMatching(/e-mail/) });
    // One directory page instead of one look-up per tagged e-mail.
    expect(fake.callsTo('users.lookupByEmail')).toHaveLength(0);
    expect(fake.callsTo('users.list').map((c) => c.args)).toEqual([{ limit: '200' }]);

    // Findings nobody owns go to the security channel, once: a second sweep repeats nothing.
    const security = fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0SECURITY');
    expect(security).toHaveLength(1);
    expect(String(security[0]!.args.text)).toMatch(/with no owner/);
    expect(JSON.stringify(security[0]!.args.blocks)).toContain('user-004');
    expect(JSON.stringify(security[0]!.args.blocks)).not.toContain('user-000');
    fake.clearCalls();
    await sweepAccount(ctx, ACCOUNT_A, { mode: 'report' });
    expect(fake.callsTo('chat.postMessage')).toHaveLength(0);
    // The directory is cached in Redis for the day's sweeps, with an expiry.
    expect(fake.callsTo('users.list')).toHaveLength(0);
    const directoryKey = `${loaded.config.redis.prefix}:hygiene:slack-emails`;
    expect(await redis.hget(directoryKey, 'user-001@example.com')).toBe('UMAILUSER1');
    const ttl = await redis.ttl(directoryKey);
    expect(ttl).toBeGreaterThan(3600);
    expect(ttl).toBeLessThanOrEqual(6 * 3600);
  });

  it('pages the Slack directory by cursor, waits out a rate-limited page, and leaves out deactivated people', async () => {
    const accounts = countingAccountClients();
    const users = Array.from({ length: 12 }, (_, i) => userTruth(i));
    await createUsers(await accounts.iam(ACCOUNT_A), users);
    // user-001's e-mail belongs to someone who left; user-011's owner is on the last page.
    fake.addUser({ id: 'UGONE1', email: 'user-001@example.com', deleted: true });
    for (let i = 0; i < 450; i++) fake.addUser({ id: `UPEOPLE${i}`, email: `person-${i}@example.com` });
    fake.addUser({ id: 'ULATE11', email: 'USER-011@Example.com' });
    fake.failNext('users.list', { status: 429, retryAfter: 2 });
    const slept: number[] = [];
    const ctx = makeContext({
      loaded,
      fake,
      redis,
      accounts,
      clock: new ManualClock(Date.now() + 100 * DAY_MS),
      sleep: async (ms) => {
        slept.push(ms);
      },
    });
    const result = await sweepAccount(ctx, ACCOUNT_A, { mode: 'report' });
    const ownerOf = (name: string) => result.findings.find((f) => f.userName === name)?.owner;
    expect(ownerOf('user-011')).toEqual({ kind: 'slack', slackUserId: 'ULATE11', source: 'email-tag' });
    expect(ownerOf('user-001')).toMatchObject({ kind: 'unowned' });
    expect(slept).toEqual([2000]);
    // 452 people: 3 pages, the first asked twice (429, then again), each next page by its cursor
    // (the Web API sends form fields, so the limit arrives as text).
    expect(fake.callsTo('users.list').map((c) => c.args)).toEqual([
      { limit: '200' },
      { limit: '200' },
      { limit: '200', cursor: 'offset:200' },
      { limit: '200', cursor: 'offset:400' },
    ]);
  });

  describe('a credential report that is not ready, expired or not present', () => {
    it('is generated, polled and retried, and each state is logged in words', async () => {
      const setup = countingAccountClients();
      const users = Array.from({ length: 6 }, (_, i) => userTruth(i));
      await createUsers(await setup.iam(ACCOUNT_A), users);

      // The first GetCredentialReport says "expired", the one after generation "in progress".
      const failures = ['CredentialReportExpiredException', 'CredentialReportNotReadyException'];
      const accounts = countingAccountClients();
      const iam = await accounts.iam(ACCOUNT_A);
      iam.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'GetCredentialReportCommand' && failures.length > 0) {
            const error = new Error('simulated report state');
            error.name = failures.shift()!;
            throw error;
          }
          return next(args);
        },
        { step: 'initialize', name: 'reportStates', priority: 'low' },
      );
      const logs = captureLogs();
      const ctx = makeContext({
        loaded,
        fake,
        redis,
        accounts,
        clock: new ManualClock(Date.now()),
        logStream: logs.stream,
      });
      const result = await sweepAccount(ctx, ACCOUNT_A, { mode: 'report' });
      expect(result.findings.filter((f) => f.kind === 'console-without-mfa')).toHaveLength(
        users.filter((u) => u.password && !u.mfa).length,
      );
      const messages = logs.lines.map((l) => String(l.msg));
      expect(messages).toContain('the credential report has expired; generating a new credential report');
      expect(messages).toContain('the credential report is still being generated; will try again');
      expect(messages).toContain('credential report generation in progress');
      expect(messages).toContain('credential report ready');
      expect(logs.lines.find((l) => l.msg === 'credential report ready')).toMatchObject({
        accountId: ACCOUNT_A,
      });
    });

    it('starts from "not present" on a fresh account and gives up with a retryable error after bounded attempts', async () => {
      const accounts = countingAccountClients();
      const iam = await accounts.iam(ACCOUNT_A);
      // IAM keeps answering "in progress": the poll must stop.
      iam.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'GenerateCredentialReportCommand')
            return { output: { State: 'INPROGRESS', $metadata: {} }, response: {} };
          return next(args);
        },
        { step: 'initialize', name: 'neverComplete', priority: 'low' },
      );
      const logs = captureLogs();
      const ctx = makeContext({
        loaded,
        fake,
        redis,
        accounts,
        clock: new ManualClock(Date.now()),
        logStream: logs.stream,
      });
      await expect(sweepAccount(ctx, ACCOUNT_A)).rejects.toMatchObject({
        code: 'aws_retryable',
        message: `credential report for account ${ACCOUNT_A} not available after 10 attempts (last state: INPROGRESS)`,
      });
      const messages = logs.lines.map((l) => String(l.msg));
      expect(messages).toContain('no credential report exists yet; generating a new credential report');
      expect(messages).toContain('credential report not available; giving up for this run');
      expect(accounts.calls.get(ACCOUNT_A)!.get('GenerateCredentialReportCommand')).toBe(10);
    });

    it('reuses a report younger than four hours without generating one', async () => {
      const accounts = countingAccountClients();
      const iam = await accounts.iam(ACCOUNT_A);
      await createUsers(iam, [userTruth(1)]);
      const ctx = makeContext({ loaded, fake, redis, accounts, clock: new ManualClock(Date.now()) });
      await sweepAccount(ctx, ACCOUNT_A); // creates the report
      accounts.reset();
      // moto stamps every report 2015-02-02T20:02:02Z: one hour later it is fresh.
      const fresh = makeContext({
        loaded,
        fake,
        redis,
        accounts,
        clock: new ManualClock(Date.parse('2015-02-02T21:02:02Z')),
      });
      await sweepAccount(fresh, ACCOUNT_A);
      expect(accounts.calls.get(ACCOUNT_A)!.get('GetCredentialReportCommand')).toBe(1);
      expect(accounts.calls.get(ACCOUNT_A)!.get('GenerateCredentialReportCommand')).toBeUndefined();
    });
  });
});
