import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { LoadedConfig } from '../../../src/config/load-config.js';
import { postWeeklyDigest } from '../../../src/jobs/hygiene-digest.js';
import { sendRotationReminders } from '../../../src/jobs/hygiene-reminders.js';
import { sweepAccount } from '../../../src/jobs/hygiene-sweep.js';
import { createLogger } from '../../../src/logger.js';
import { register } from '../../../src/slack/hygiene/index.js';
import { createSlackApp } from '../../../src/slack/slack-app.js';
import type { HygieneContext } from '../../../src/jobs/hygiene-context.js';
import { testEnv } from '../../support/app-harness.js';
import type { FakeSlack } from '../../support/fake-slack.js';
import { blockActionsBody, postToSlackEvents } from '../../support/slack-request.js';
import {
  ACCOUNT_A,
  DAY_MS,
  ManualClock,
  countingAccountClients,
  createUsers,
  makeContext,
  ownerOf,
  userTruth,
  wireOwners,
  type UserTruth,
  startHygieneServices,
} from './support.js';

describe('rotation reminders, Snooze and the weekly digest', () => {
  let fake: FakeSlack;
  let loaded: LoadedConfig;
  let redis: Redis;
  let cleanup: () => Promise<void>;
  let server: Server | undefined;
  let users: UserTruth[];
  let clock: ManualClock;
  let ctx: HygieneContext;
  let accounts: ReturnType<typeof countingAccountClients>;

  beforeEach(async () => {
    ({ fake, loaded, redis, cleanup } = await startHygieneServices((c) => {
      c.schedules.timezone = 'Europe/Berlin';
      c.hygiene.escalateAfterDays = 14;
    }));
    accounts = countingAccountClients();
    users = Array.from({ length: 20 }, (_, i) => userTruth(i));
    await createUsers(await accounts.iam(ACCOUNT_A), users);
    wireOwners(users, ACCOUNT_A, loaded, fake);
    // 09:00 in Berlin, 100 days after the keys were made.
    const at = new Date(Date.now() + 100 * DAY_MS);
    at.setUTCHours(8, 0, 0, 0);
    clock = new ManualClock(at.getTime());
    ctx = makeContext({ loaded, fake, redis, accounts, clock });
    await sweepAccount(ctx, ACCOUNT_A, { mode: 'report' });
    fake.clearCalls();
    accounts.reset();
  });
  afterEach(async () => {
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((r) => server!.close(() => r()));
      server = undefined;
    }
    await cleanup();
  });

  const ownersWithOldKeys = () =>
    users
      .filter((u) => ownerOf(u) && u.keys.some((k) => k.active))
      .map((u) => ownerOf(u)!)
      .sort();
  const dmsTo = (user: string) => fake.callsTo('chat.postMessage').filter((c) => c.args.channel === user);

  async function startBolt(): Promise<string> {
    const env = testEnv(fake);
    const slack = createSlackApp(env, createLogger({ level: 'silent' }));
    register(slack.app, { redis, config: loaded.config, logger: createLogger({ level: 'silent' }), clock });
    server = createServer(slack.requestListener);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('DMs each owner once a day with their keys past age, the rotation steps and a Snooze button', async () => {
    const run = await sendRotationReminders(ctx);
    expect(Object.keys(run.reminded).sort()).toEqual(ownersWithOldKeys());
    for (const owner of ownersWithOldKeys()) {
      const dms = dmsTo(owner);
      expect(dms, owner).toHaveLength(1);
      const truth = users.find((u) => ownerOf(u) === owner)!;
      const blocks = JSON.stringify(dms[0]!.args.blocks);
      expect(blocks).toContain(truth.name);
      expect(blocks).toContain('create-access-key');
      expect(blocks).toContain('Snooze 7 days');
      expect(run.reminded[owner]).toHaveLength(truth.keys.filter((k) => k.active).length);
    }
    // The reminders read Redis, not AWS.
    expect(accounts.calls.size).toBe(0);

    // Same local day, again: nothing new.
    fake.clearCalls();
    clock.set(clock.now() + 3 * 3600_000);
    const again = await sendRotationReminders(ctx);
    expect(again.reminded).toEqual({});
    expect(
      fake.callsTo('chat.postMessage').filter((c) => String(c.args.channel).startsWith('U')),
    ).toHaveLength(0);

    // Next day: reminded again.
    clock.set(clock.now() + DAY_MS);
    const next = await sendRotationReminders(ctx);
    expect(Object.keys(next.reminded).sort()).toEqual(ownersWithOldKeys());
  });

  it('a DM that Slack rate-limits is not counted as sent, so the retried job sends it', async () => {
    const owner = ownersWithOldKeys()[0]!;
    fake.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    await expect(sendRotationReminders(ctx)).rejects.toThrow();
    const retried = await sendRotationReminders(ctx);
    expect(Object.keys(retried.reminded).sort()).toEqual(ownersWithOldKeys());
    expect(dmsTo(owner)).toHaveLength(2); // the 429 and the retry
  });

  it('Snooze through the Bolt app pauses the owner’s reminders for 7 days; others cannot snooze it', async () => {
    const baseUrl = await startBolt();
    await sendRotationReminders(ctx);
    const owner = ownersWithOldKeys()[0]!;
    const dm = dmsTo(owner)[0]!;
    const button = (
      dm.args.blocks as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>
    ).find((b) => b.type === 'actions')!.elements![0]!;
    const message = { channel: owner, ts: '1700000000.000001' };

    // Someone else clicks: refused, nothing snoozed.
    await postToSlackEvents(
      baseUrl,
      blockActionsBody({
        userId: 'UINTRUDER',
        actionId: button.action_id,
        value: button.value,
        message,
        responseUrl: fake.responseUrl('x'),
      }),
    );
    const refusal = await fake.waitForCall('response_url');
    expect(String(refusal.args.text)).toContain(`Only <@${owner}> can snooze`);

    const res = await postToSlackEvents(
      baseUrl,
      blockActionsBody({
        userId: owner,
        actionId: button.action_id,
        value: button.value,
        message,
        responseUrl: fake.responseUrl('y'),
      }),
    );
    expect(res.status).toBe(200);
    const update = await fake.waitForCall('chat.update');
    expect(update.args).toMatchObject({ channel: owner, ts: message.ts });
    expect(String(update.args.text)).toMatch(/snoozed until/);

    // Next days: no DM for the snoozed owner, the others still get theirs.
    for (const days of [1, 6]) {
      fake.clearCalls();
      clock.set(clock.now() + (days === 1 ? 1 : 5) * DAY_MS);
      const run = await sendRotationReminders(ctx);
      expect(run.reminded[owner], `day +${days}`).toBeUndefined();
      expect(Object.keys(run.reminded).length).toBe(ownersWithOldKeys().length - 1);
    }
    // After 7 days the reminders come back.
    clock.set(clock.now() + 2 * DAY_MS);
    const back = await sendRotationReminders(ctx);
    expect(back.reminded[owner]).toBeDefined();
    const audit = await ctx.store.readAudit();
    expect(
      audit.filter((e) => e.type === 'hygiene.reminder-snoozed' && e.actor === owner).length,
    ).toBeGreaterThan(0);
    expect(audit.some((e) => e.actor === 'UINTRUDER')).toBe(false);
  });

  it('escalates unowned keys at once and owned keys after escalateAfterDays, each once', async () => {
    const first = await sendRotationReminders(ctx);
    const unowned = users.filter((u) => !ownerOf(u)).flatMap((u) => u.keys.filter((k) => k.active));
    expect(first.escalated).toHaveLength(unowned.length);
    expect(fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0SECURITY')).toHaveLength(1);

    fake.clearCalls();
    clock.set(clock.now() + 13 * DAY_MS);
    expect((await sendRotationReminders(ctx)).escalated).toEqual([]);
    clock.set(clock.now() + 1 * DAY_MS);
    const late = await sendRotationReminders(ctx);
    const ownedKeys = users.filter((u) => ownerOf(u)).flatMap((u) => u.keys.filter((k) => k.active));
    expect(late.escalated).toHaveLength(ownedKeys.length);
    clock.set(clock.now() + 1 * DAY_MS);
    expect((await sendRotationReminders(ctx)).escalated).toEqual([]);
  });

  it('the weekly digest counts findings per kind and account, names worst offenders and the change since last week', async () => {
    const first = await postWeeklyDigest(ctx);
    expect(first.change).toBeUndefined();
    expect(first.totals['console-without-mfa']).toBe(users.filter((u) => u.password && !u.mfa).length);
    expect(first.accounts.map((a) => a.accountId)).toEqual([ACCOUNT_A]);
    expect(first.worstOffenders[0]!.count).toBeGreaterThanOrEqual(first.worstOffenders.at(-1)!.count);
    const post = fake.callsTo('chat.postMessage').find((c) => c.args.channel === 'C0SECURITY')!;
    expect(String(post.args.text)).toContain(`${first.total} findings`);

    // A week later with 3 more users without MFA.
    await createUsers(await accounts.iam(ACCOUNT_A), [
      userTruth(100, 'new'),
      userTruth(104, 'new'),
      userTruth(108, 'new'),
    ]);
    clock.set(clock.now() + 7 * DAY_MS);
    await sweepAccount(ctx, ACCOUNT_A, { mode: 'report' });
    fake.clearCalls();
    const second = await postWeeklyDigest(ctx);
    expect(second.previousWeek).toBe(first.week);
    expect(second.change?.['console-without-mfa']).toBe(2); // new-100 and new-108 have passwords, no MFA
    expect(second.totalChange).toBe(second.total - first.total);
    const text = String(fake.callsTo('chat.postMessage')[0]!.args.text);
    expect(text).toContain(`since ${first.week}`);
  });
});
