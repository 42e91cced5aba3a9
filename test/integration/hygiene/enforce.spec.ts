import { ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { LoadedConfig } from '../../../src/config/load-config.js';
import { sweepAccount } from '../../../src/jobs/hygiene-sweep.js';
import type { FakeSlack } from '../../support/fake-slack.js';
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

describe('enforce mode', () => {
  let fake: FakeSlack;
  let loaded: LoadedConfig;
  let redis: Redis;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    ({ fake, loaded, redis, cleanup } = await startHygieneServices((c) => {
      c.hygiene.mode = 'enforce';
      c.hygiene.gracePeriodDays = 7;
    }));
  });
  afterEach(async () => {
    await cleanup();
  });

  async function keyStatuses(accounts: ReturnType<typeof countingAccountClients>, users: UserTruth[]) {
    const iam = await accounts.iam(ACCOUNT_A);
    const out: Record<string, string[]> = {};
    for (const u of users) {
      const keys = await iam.send(new ListAccessKeysCommand({ UserName: u.name }));
      out[u.name] = [...(keys.AccessKeyMetadata ?? [])]
        .sort((a, b) => a.CreateDate!.getTime() - b.CreateDate!.getTime())
        .map((k) => k.Status!);
    }
    return out;
  }

  it('deactivates only owned unused keys, only after a warning and the grace period, and never deletes', async () => {
    const accounts = countingAccountClients();
    const users = Array.from({ length: 30 }, (_, i) => userTruth(i));
    await createUsers(await accounts.iam(ACCOUNT_A), users);
    wireOwners(users, ACCOUNT_A, loaded, fake);
    const before = await keyStatuses(accounts, users);
    const clock = new ManualClock(Date.now() + 100 * DAY_MS);
    const ctx = makeContext({ loaded, fake, redis, accounts, clock });

    // Day 100: everyone with an unused active key is warned; nothing is deactivated yet.
    const first = await sweepAccount(ctx, ACCOUNT_A);
    expect(first.deactivated).toEqual([]);
    const owned = users.filter((u) => ownerOf(u) && u.keys.some((k) => k.active));
    const dms = fake.callsTo('chat.postMessage').filter((c) => String(c.args.channel).startsWith('U'));
    expect(dms.map((c) => c.args.channel).sort()).toEqual(owned.map((u) => ownerOf(u)).sort());
    expect(String(dms[0]!.args.text)).toMatch(/will be deactivated after/);
    expect(await keyStatuses(accounts, users)).toEqual(before);

    // Day 106: still inside the grace period, no new warnings either.
    fake.clearCalls();
    clock.set(clock.now() + 6 * DAY_MS);
    const second = await sweepAccount(ctx, ACCOUNT_A);
    expect(second.deactivated).toEqual([]);
    expect(second.warned).toEqual([]);
    expect(fake.callsTo('chat.postMessage')).toHaveLength(0);
    expect(await keyStatuses(accounts, users)).toEqual(before);

    // Day 107: grace period over: owned unused keys go Inactive, unowned ones stay Active.
    accounts.reset();
    clock.set(clock.now() + 1 * DAY_MS);
    const third = await sweepAccount(ctx, ACCOUNT_A);
    // One ListAccessKeys and one UpdateAccessKey per key acted on: calls grow with actions only.
    const eligible = owned.flatMap((u) => u.keys.filter((k) => k.active)).length;
    const calls = new Map(accounts.calls.get(ACCOUNT_A)!);
    expect(calls.get('UpdateAccessKeyCommand')).toBe(eligible);
    expect(calls.get('ListAccessKeysCommand')).toBe(eligible);
    expect(calls.get('DeleteAccessKeyCommand')).toBeUndefined();
    const after = await keyStatuses(accounts, users);
    for (const u of users) {
      const expected = u.keys.map((k) =>
        k.active && ownerOf(u) ? 'Inactive' : k.active ? 'Active' : 'Inactive',
      );
      expect(after[u.name], u.name).toEqual(expected);
    }
    expect(third.deactivated).toHaveLength(eligible);

    // Unowned keys are left alone but reported.
    const skipped = third.plan.filter((a) => a.type === 'skip-unowned').map((a) => a.finding.userName);
    const unownedWithKeys = users
      .filter((u) => !ownerOf(u) && u.keys.some((k) => k.active))
      .map((u) => u.name);
    expect([...new Set(skipped)].sort()).toEqual(unownedWithKeys.sort());

    // Every deactivation is audited, with only the last four characters of the key id.
    const audit = await ctx.store.readAudit();
    const deactivations = audit.filter((e) => e.type === 'hygiene.key-deactivated');
    expect(deactivations).toHaveLength(eligible);
    expect(deactivations[0]!.accessKeyIdSuffix).toMatch(/^…[A-Z0-9]{4}$/);
    expect(audit.filter((e) => e.type === 'hygiene.key-warning-sent')).toHaveLength(eligible);
    expect(JSON.stringify(audit)).not.toMatch(/AKIA[A-Z0-9]{16}/);
    // Owners hear about it.
    expect(fake.callsTo('chat.postMessage').some((c) => /deactivated/.test(String(c.args.text)))).toBe(true);
  });

  it('unowned keys are warned to the security channel and deactivated only when enforceUnowned is set', async () => {
    loaded.config.hygiene.enforceUnowned = true;
    const accounts = countingAccountClients();
    const users = [userTruth(4), userTruth(14)]; // no owner, one active key each
    await createUsers(await accounts.iam(ACCOUNT_A), users);
    const clock = new ManualClock(Date.now() + 100 * DAY_MS);
    const ctx = makeContext({ loaded, fake, redis, accounts, clock });
    await sweepAccount(ctx, ACCOUNT_A);
    const warning = fake
      .callsTo('chat.postMessage')
      .find((c) => c.args.channel === 'C0SECURITY' && /Unowned AWS access keys/.test(String(c.args.text)));
    expect(warning).toBeDefined();
    clock.set(clock.now() + 7 * DAY_MS);
    const result = await sweepAccount(ctx, ACCOUNT_A);
    expect(result.deactivated).toHaveLength(2);
  });

  it('report mode and dry runs never change a key', async () => {
    const accounts = countingAccountClients();
    const users = Array.from({ length: 10 }, (_, i) => userTruth(i));
    await createUsers(await accounts.iam(ACCOUNT_A), users);
    wireOwners(users, ACCOUNT_A, loaded, fake);
    const before = await keyStatuses(accounts, users);
    const clock = new ManualClock(Date.now() + 100 * DAY_MS);
    const ctx = makeContext({ loaded, fake, redis, accounts, clock });
    await sweepAccount(ctx, ACCOUNT_A, { mode: 'report' });
    clock.set(clock.now() + 30 * DAY_MS);
    const dry = await sweepAccount(ctx, ACCOUNT_A, { dryRun: true });
    expect(dry.plan.some((a) => a.type === 'warn')).toBe(true);
    expect(await keyStatuses(accounts, users)).toEqual(before);
    expect(
      fake.callsTo('chat.postMessage').filter((c) => String(c.args.channel).startsWith('U')),
    ).toHaveLength(0);
  });
});
