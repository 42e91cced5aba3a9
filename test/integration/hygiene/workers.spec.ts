import { systemClock } from '../../../src/clock.js';
import { QueueEvents } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { LoadedConfig } from '../../../src/config/load-config.js';
import {
  HygieneJob,
  HygieneScheduler,
  startHygieneWorkers,
  type HygieneWorkers,
} from '../../../src/jobs/hygiene-workers.js';
import { queuePrefix } from '../../../src/jobs/queues.js';
import { createLogger } from '../../../src/logger.js';
import { createRedis } from '../../../src/store/redis-connection.js';
import { testEnv } from '../../support/app-harness.js';
import type { FakeSlack } from '../../support/fake-slack.js';
import { redisUrl } from '../../support/services.js';
import { createHygieneCommand } from '../../../src/cli/hygiene.js';
import {
  ACCOUNT_A,
  DAY_MS,
  ManualClock,
  countingAccountClients,
  createUsers,
  userTruth,
  wireOwners,
  startHygieneServices,
  slackAdapters,
} from './support.js';

describe('hygiene workers and schedulers', () => {
  let fake: FakeSlack;
  let loaded: LoadedConfig;
  let redis: Redis;
  let connection: Redis;
  let cleanup: () => Promise<void>;
  let workers: HygieneWorkers | undefined;

  beforeEach(async () => {
    ({ fake, loaded, redis, cleanup } = await startHygieneServices((c) => {
      c.schedules.timezone = 'America/New_York';
    }));
    connection = createRedis(redisUrl(), 'worker');
  });
  afterEach(async () => {
    await workers?.close();
    workers = undefined;
    await connection.quit();
    await cleanup();
  });

  it('sweeps as many accounts at once as aws.concurrency.accounts allows', async () => {
    loaded.config.aws.concurrency.accounts = 7;
    workers = await startHygieneWorkers({
      clock: systemClock,
      ...slackAdapters(fake, loaded.config),
      config: loaded.config,
      logger: createLogger({ level: 'silent' }),
      connection,
      accounts: countingAccountClients(),
      schedule: false,
    });
    expect(workers.worker.concurrency).toBe(7);
  });

  it('upserts the sweep, reminder and digest Job Schedulers with the configured cron and time zone', async () => {
    workers = await startHygieneWorkers({
      clock: systemClock,
      ...slackAdapters(fake, loaded.config),
      config: loaded.config,
      logger: createLogger({ level: 'silent' }),
      connection,
      accounts: countingAccountClients(),
    });
    const schedulers = await workers.queue.getJobSchedulers();
    const byId = Object.fromEntries(schedulers.map((s) => [s.key, s]));
    expect(byId[HygieneScheduler.reminders]).toMatchObject({
      pattern: '0 9 * * *',
      tz: 'America/New_York',
      name: HygieneJob.reminders,
    });
    expect(byId[HygieneScheduler.sweep]).toMatchObject({ pattern: '0 6 * * *', tz: 'America/New_York' });
    expect(byId[HygieneScheduler.digest]).toMatchObject({ pattern: '0 8 * * 1', tz: 'America/New_York' });
    // Restarting does not add duplicates.
    await workers.close();
    workers = await startHygieneWorkers({
      clock: systemClock,
      ...slackAdapters(fake, loaded.config),
      config: loaded.config,
      logger: createLogger({ level: 'silent' }),
      connection,
      accounts: countingAccountClients(),
    });
    expect(await workers.queue.getJobSchedulersCount()).toBe(3);
    expect((await redis.keys(`${queuePrefix(loaded.config.redis.prefix)}:hygiene:*`)).length).toBeGreaterThan(
      0,
    );
  });

  it('a daily sweep job fans out per account and stores findings; reminders run from Redis', async () => {
    loaded.config.aws.accounts = loaded.config.aws.accounts.filter((a) => a.id === ACCOUNT_A);
    const accounts = countingAccountClients();
    const users = Array.from({ length: 6 }, (_, i) => userTruth(i));
    await createUsers(await accounts.iam(ACCOUNT_A), users);
    wireOwners(users, ACCOUNT_A, loaded, fake);
    workers = await startHygieneWorkers({
      ...slackAdapters(fake, loaded.config),
      config: loaded.config,
      logger: createLogger({ level: 'silent' }),
      connection,
      accounts,
      clock: new ManualClock(Date.now() + 100 * DAY_MS),
      schedule: false,
      reportOptions: { baseDelayMs: 5 },
    });
    const events = new QueueEvents('hygiene', {
      connection: createRedis(redisUrl(), 'worker'),
      prefix: queuePrefix(loaded.config.redis.prefix),
    });
    await events.waitUntilReady();
    try {
      const sweep = await workers.queue.add(HygieneJob.sweep, {});
      await sweep.waitUntilFinished(events, 20_000);
      await expect
        .poll(() => workers!.context.store.getFindings(ACCOUNT_A), { timeout: 20_000 })
        .toBeDefined();
      const reminders = await workers.queue.add(HygieneJob.reminders, {});
      const result = (await reminders.waitUntilFinished(events, 20_000)) as {
        reminded: Record<string, string[]>;
      };
      expect(Object.keys(result.reminded).length).toBeGreaterThan(0);
      expect(fake.callsTo('chat.postMessage').some((c) => String(c.args.channel) === 'UTAGUSER5')).toBe(true);
    } finally {
      await events.close();
    }
  });

  it('the hygiene CLI dry run prints findings and what enforce would do without changing anything', async () => {
    const accounts = countingAccountClients();
    const users = Array.from({ length: 6 }, (_, i) => userTruth(i));
    await createUsers(await accounts.iam(ACCOUNT_A), users);
    wireOwners(users, ACCOUNT_A, loaded, fake);
    const out: string[] = [];
    const err: string[] = [];
    const command = createHygieneCommand({ loaded, clock: new ManualClock(Date.now() + 100 * DAY_MS) });
    const code = await command(['--account', ACCOUNT_A, '--dry-run'], {
      env: { ...testEnv(fake), logLevel: 'silent' },
      clock: systemClock,
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toContain(`Account ${ACCOUNT_A}:`);
    expect(text).toMatch(/unused access keys \(\d+\)/);
    expect(text).toMatch(/warn +user-001 key 1 \(created [\d-]+\): warn owner UMAILUSER1/);
    expect(text).toMatch(/leave +user-004 key 1 .*not touched/);
    // Read-only Slack directory only: no message, no DM, nothing cached.
    expect(fake.calls.map((c) => c.method).filter((m) => m !== 'users.list')).toEqual([]);
    expect(fake.callsTo('users.list')).toHaveLength(1);
    expect(await redis.exists(`${loaded.config.redis.prefix}:hygiene:slack-emails`)).toBe(0);
    expect(await redis.keys(`${loaded.config.redis.prefix}:hygiene:findings:*`)).toEqual([]);

    await expect(
      command(['--account', 'nope'], {
        env: testEnv(fake),
        clock: systemClock,
        out: () => {},
        err: () => {},
      }),
    ).rejects.toThrow(/12-digit/);
  });
});
