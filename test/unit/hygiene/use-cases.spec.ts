import { describe, expect, it } from 'vitest';
import { resolveSlackIdsByEmail } from '../../../src/domain/hygiene/owner-emails.js';
import { remindKeyOwners } from '../../../src/domain/hygiene/remind-owners.js';
import { snoozeReminder } from '../../../src/domain/hygiene/snooze-reminder.js';
import { sweepAccount } from '../../../src/domain/hygiene/sweep-account.js';
import { postWeeklyDigest } from '../../../src/domain/hygiene/weekly-digest.js';
import { ACCOUNT, DAY, accountState, memoryDeps } from './support/memory-ports.js';

const MADE = new Date('2026-01-01T00:00:00Z');
const LATER = MADE.getTime() + 100 * DAY;
const users = [{ name: 'ann', owner: 'UANN' }, { name: 'bob', owner: 'UBOB' }, { name: 'nobody' }];

let ids = 0;
const newId = () => `r${++ids}`;

describe('sweeping an account', () => {
  it('stores the findings and tells the security channel about unowned ones once, when they first appear', async () => {
    const { deps, store, notifier } = memoryDeps(accountState(users, MADE), LATER);
    const first = await sweepAccount(deps, ACCOUNT);
    expect(first.findings.filter((f) => f.kind === 'unused-key').map((f) => f.userName)).toEqual([
      'ann',
      'bob',
      'nobody',
    ]);
    expect((await store.getFindings(ACCOUNT))?.findings).toHaveLength(first.findings.length);
    const toSecurity = notifier.sent.filter((s) => s.kind === 'unownedFindings');
    expect(toSecurity).toHaveLength(1);
    expect(toSecurity[0]!.findings.every((id) => id.includes(':nobody:'))).toBe(true);

    await sweepAccount(deps, ACCOUNT);
    expect(notifier.sent.filter((s) => s.kind === 'unownedFindings')).toHaveLength(1);
  });

  it('a dry run decides but stores, posts and deactivates nothing', async () => {
    const { deps, store, notifier, deactivated } = memoryDeps(accountState(users, MADE), LATER);
    const result = await sweepAccount(deps, ACCOUNT, { mode: 'enforce', dryRun: true });
    expect(result.plan.map((a) => a.type).sort()).toEqual(['skip-unowned', 'warn', 'warn']);
    expect(store.findings.size).toBe(0);
    expect(store.warned.size).toBe(0);
    expect(notifier.sent).toEqual([]);
    expect(deactivated).toEqual([]);
  });
});

describe('enforcing on unused keys', () => {
  it('warns owners first and deactivates only after the grace period, leaving unowned keys alone', async () => {
    const { deps, clock, notifier, deactivated, store } = memoryDeps(accountState(users, MADE), LATER);
    const first = await sweepAccount(deps, ACCOUNT, { mode: 'enforce' });
    expect(first.warned).toHaveLength(2);
    expect(notifier.sent.filter((s) => s.kind === 'enforcementWarning').map((s) => s.to)).toEqual([
      'UANN',
      'UBOB',
    ]);
    clock.at += 6 * DAY;
    expect((await sweepAccount(deps, ACCOUNT, { mode: 'enforce' })).deactivated).toEqual([]);
    clock.at += DAY;
    const third = await sweepAccount(deps, ACCOUNT, { mode: 'enforce' });
    expect(deactivated).toEqual(['ann', 'bob']);
    expect(third.deactivated).toHaveLength(2);
    expect(notifier.sent.filter((s) => s.kind === 'keysDeactivated').map((s) => s.to)).toEqual([
      'UANN',
      'UBOB',
    ]);
    expect(store.audit.filter((e) => e.type === 'hygiene.key-deactivated')).toHaveLength(2);
  });

  it('records no warning when the warning could not be sent, so the grace period has not started', async () => {
    const { deps, notifier, store } = memoryDeps(accountState([users[0]!], MADE), LATER);
    notifier.failNext = true;
    await expect(sweepAccount(deps, ACCOUNT, { mode: 'enforce' })).rejects.toThrow('slack_rate_limited');
    expect(store.warned.get(ACCOUNT)?.size ?? 0).toBe(0);
    expect(store.audit).toEqual([]);
  });

  it('a failed deactivation is audited and fails the sweep as retryable', async () => {
    const { deps, clock, keys, store } = memoryDeps(accountState(users, MADE), LATER);
    await sweepAccount(deps, ACCOUNT, { mode: 'enforce' });
    clock.at += 7 * DAY;
    keys.failFor.add('bob');
    await expect(sweepAccount(deps, ACCOUNT, { mode: 'enforce' })).rejects.toMatchObject({
      code: 'aws_retryable',
    });
    expect(store.audit).toContainEqual(
      expect.objectContaining({
        type: 'hygiene.key-deactivation-failed',
        userName: 'bob',
        detail: 'Throttling',
      }),
    );
  });
});

describe('reminding key owners', () => {
  async function swept() {
    const m = memoryDeps(accountState(users, MADE), LATER);
    await sweepAccount(m.deps, ACCOUNT);
    m.notifier.sent = [];
    return m;
  }

  it('sends one DM per owner per day and escalates unowned keys at once, each once', async () => {
    const { deps, notifier, clock } = await swept();
    const run = await remindKeyOwners(deps, newId);
    expect(Object.keys(run.reminded)).toEqual(['UANN', 'UBOB']);
    expect(run.escalated).toHaveLength(1);
    expect(notifier.sent.map((s) => s.kind)).toEqual(['rotationReminder', 'rotationReminder', 'escalation']);
    expect(await remindKeyOwners(deps, newId)).toMatchObject({ reminded: {}, escalated: [] });
    clock.at += DAY;
    expect(Object.keys((await remindKeyOwners(deps, newId)).reminded)).toEqual(['UANN', 'UBOB']);
  });

  it('gives the day back when a DM fails, so the retried job sends it', async () => {
    const { deps, notifier } = await swept();
    notifier.failNext = true;
    await expect(remindKeyOwners(deps, newId)).rejects.toThrow();
    expect(Object.keys((await remindKeyOwners(deps, newId)).reminded)).toEqual(['UANN', 'UBOB']);
  });
});

describe('snoozing a reminder', () => {
  it('only the reminder’s owner can snooze it; the snooze pauses DMs and is audited per key', async () => {
    const { deps, store, clock } = memoryDeps(accountState(users, MADE), LATER);
    await sweepAccount(deps, ACCOUNT);
    await remindKeyOwners(deps, newId);
    const reminder = [...store.reminders.values()].find((r) => r.slackUserId === 'UANN')!;

    expect(await snoozeReminder(deps, reminder.id, 'UBOB')).toEqual({ outcome: 'not-owner', owner: 'UANN' });
    expect(store.snoozed.size).toBe(0);
    expect(await snoozeReminder(deps, 'gone', 'UANN')).toEqual({ outcome: 'unknown-reminder' });

    const done = await snoozeReminder(deps, reminder.id, 'UANN');
    expect(done).toMatchObject({ outcome: 'snoozed', until: new Date(clock.at + 7 * DAY) });
    expect(
      store.audit.filter((e) => e.type === 'hygiene.reminder-snoozed' && e.actor === 'UANN'),
    ).toHaveLength(reminder.findingIds.length);
    clock.at += DAY;
    const next = await remindKeyOwners(deps, newId);
    expect(Object.keys(next.reminded)).toEqual(['UBOB']);
    expect(next.snoozed).toEqual(reminder.findingIds);
  });
});

describe('the weekly digest', () => {
  it('posts the counts and keeps a snapshot of the week to compare the next one with', async () => {
    const { deps, store, notifier, clock } = memoryDeps(accountState(users, MADE), LATER);
    await sweepAccount(deps, ACCOUNT);
    const first = await postWeeklyDigest(deps);
    expect(first.totals['unused-key']).toBe(3);
    expect(first.change).toBeUndefined();
    expect(store.snapshots.has(first.week)).toBe(true);
    clock.at += 7 * DAY;
    const second = await postWeeklyDigest(deps);
    expect(second).toMatchObject({ previousWeek: first.week, totalChange: 0 });
    expect(notifier.sent.filter((s) => s.kind === 'digest')).toHaveLength(2);
  });
});

describe('Slack ids for e-mail owner tags', () => {
  it('parallel sweeps read the directory once and cache it for later ones; a dry run caches nothing', async () => {
    const { deps, people, store } = memoryDeps(accountState([], MADE), LATER);
    people.byEmail.set('a@example.com', 'UA');
    const dry = await resolveSlackIdsByEmail(deps, ['a@example.com'], { dryRun: true });
    expect(dry.get('a@example.com')).toBe('UA');
    expect(store.directory).toBeUndefined();
    const [x, y] = await Promise.all([
      resolveSlackIdsByEmail(deps, ['a@example.com'], { dryRun: false }),
      resolveSlackIdsByEmail(deps, ['b@example.com'], { dryRun: false }),
    ]);
    expect([x.get('a@example.com'), y.get('b@example.com')]).toEqual(['UA', undefined]);
    expect(people.reads).toBe(2);
    await resolveSlackIdsByEmail(deps, ['a@example.com'], { dryRun: false });
    expect(people.reads).toBe(2);
  });

  it('a dry run without Slack leaves e-mail owners unknown instead of failing', async () => {
    const { deps } = memoryDeps(accountState([], MADE), LATER);
    deps.people.listByEmail = async () => {
      throw new Error('not_authed');
    };
    expect(await resolveSlackIdsByEmail(deps, ['a@example.com'], { dryRun: true })).toEqual(new Map());
  });
});
