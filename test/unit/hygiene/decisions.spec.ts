import { describe, expect, it } from 'vitest';
import { isoWeek, localDay } from '../../../src/domain/hygiene/calendar.js';
import { computeDigest } from '../../../src/domain/hygiene/digest.js';
import { planEnforcement } from '../../../src/domain/hygiene/enforcement.js';
import { emailsToLookUp, resolveOwner } from '../../../src/domain/hygiene/owners.js';
import { planReminders } from '../../../src/domain/hygiene/reminders.js';
import type { Finding } from '../../../src/domain/hygiene/types.js';

const DAY = 86_400_000;
const NOW = new Date('2026-05-01T09:00:00Z');
const map = {
  UMAPPED: { principal: 'arn:aws:iam::999999999999:user/people/dave', email: 'dave@example.com' },
  UARN: { principal: 'arn:aws:iam::111111111111:user/erin' },
};

function finding(over: Partial<Finding> & Pick<Finding, 'id' | 'kind'>): Finding {
  return { accountId: '111111111111', userName: 'u', detail: 'd', ...over };
}

describe('owner resolution', () => {
  const user = (tags: Record<string, string>, userName = 'x') => ({
    userName,
    userArn: `arn:aws:iam::111111111111:user/${userName}`,
    tags,
  });
  it('prefers the slack-user tag, then the email tag (identity map, then Slack), then the identity map', () => {
    expect(resolveOwner(user({ 'slack-user': 'UTAG', email: 'dave@example.com' }), map, new Map())).toEqual({
      kind: 'slack',
      slackUserId: 'UTAG',
      source: 'tag',
    });
    expect(resolveOwner(user({ email: 'Dave@Example.com' }), map, new Map())).toEqual({
      kind: 'slack',
      slackUserId: 'UMAPPED',
      source: 'identity-map',
    });
    expect(
      resolveOwner(user({ email: 'f@example.com' }), map, new Map([['f@example.com', 'USLACK']])),
    ).toEqual({ kind: 'slack', slackUserId: 'USLACK', source: 'email-tag' });
    expect(resolveOwner(user({}, 'erin'), map, new Map())).toEqual({
      kind: 'slack',
      slackUserId: 'UARN',
      source: 'identity-map',
    });
    expect(resolveOwner(user({}, 'dave'), map, new Map())).toEqual({
      kind: 'slack',
      slackUserId: 'UMAPPED',
      source: 'identity-map',
    });
  });
  it('leaves a user unowned with the reason, and never guesses between two map entries', () => {
    expect(resolveOwner(user({ 'slack-user': 'not-an-id' }), map, new Map())).toMatchObject({
      kind: 'unowned',
      reason: expect.stringMatching(/not a Slack user id/),
    });
    expect(
      resolveOwner(user({ email: 'g@example.com' }), map, new Map([['g@example.com', undefined]])),
    ).toMatchObject({ kind: 'unowned' });
    const twice = {
      A1: { principal: 'arn:aws:iam::1:user/zed' },
      A2: { principal: 'arn:aws:iam::2:user/zed' },
    };
    // (principal account ids are not 12 digits here on purpose: the name rule must not match them)
    expect(
      resolveOwner(
        user({}, 'zed'),
        {
          ...twice,
          B1: { principal: 'arn:aws:iam::111111111111:user/x/zed' },
          B2: { principal: 'arn:aws:iam::222222222222:user/zed' },
        },
        new Map(),
      ),
    ).toMatchObject({ kind: 'unowned', reason: expect.stringMatching(/several/) });
  });
  it('asks Slack only for e-mails the identity map does not know', () => {
    expect(
      emailsToLookUp(
        [
          user({ email: 'dave@example.com' }),
          user({ email: 'New@x.io' }),
          user({ 'slack-user': 'UTAG', email: 'z@x.io' }),
        ],
        map,
      ),
    ).toEqual(['new@x.io']);
  });
});

describe('enforcement', () => {
  const owned = finding({
    id: 'k1',
    kind: 'unused-key',
    owner: { kind: 'slack', slackUserId: 'U1', source: 'tag' },
    key: { slot: 1, createdAt: '2025-01-01T00:00:00Z', neverUsed: true },
  });
  const unowned = finding({ id: 'k2', kind: 'unused-key', owner: { kind: 'unowned', reason: 'r' } });
  const opts = { gracePeriodDays: 7, enforceUnowned: false };
  it('warns first, waits out the grace period from the first warning, then deactivates', () => {
    expect(planEnforcement([owned], new Map(), NOW, opts)[0]).toMatchObject({
      type: 'warn',
      recipient: 'owner',
      deactivateAfter: new Date(NOW.getTime() + 7 * DAY),
    });
    const warned = new Map([['k1', NOW.getTime() - 6 * DAY]]);
    expect(planEnforcement([owned], warned, NOW, opts)[0]).toMatchObject({ type: 'wait' });
    warned.set('k1', NOW.getTime() - 7 * DAY);
    expect(planEnforcement([owned], warned, NOW, opts)[0]).toMatchObject({ type: 'deactivate' });
  });
  it('leaves unowned keys alone unless enforceUnowned, and then warns the security channel', () => {
    expect(planEnforcement([unowned], new Map([['k2', 0]]), NOW, opts)[0]!.type).toBe('skip-unowned');
    expect(planEnforcement([unowned], new Map(), NOW, { ...opts, enforceUnowned: true })[0]).toMatchObject({
      type: 'warn',
      recipient: 'security',
    });
  });
  it('only ever acts on unused keys', () => {
    expect(planEnforcement([{ ...owned, kind: 'key-past-rotation' }], new Map(), NOW, opts)).toEqual([]);
  });
});

describe('reminders', () => {
  const a1 = finding({
    id: 'a1',
    kind: 'key-past-rotation',
    owner: { kind: 'slack', slackUserId: 'UA', source: 'tag' },
  });
  const a2 = finding({
    id: 'a2',
    kind: 'key-past-rotation',
    owner: { kind: 'slack', slackUserId: 'UA', source: 'tag' },
  });
  const b1 = finding({
    id: 'b1',
    kind: 'key-past-rotation',
    owner: { kind: 'slack', slackUserId: 'UB', source: 'tag' },
  });
  const n1 = finding({ id: 'n1', kind: 'key-past-rotation', owner: { kind: 'unowned', reason: 'r' } });
  const opts = { escalateAfterDays: 14 };
  it('groups keys into one DM per owner and sends unowned keys to the security channel', () => {
    const plan = planReminders([a1, b1, a2, n1], new Map(), NOW, opts);
    expect(plan.dms.map((d) => [d.slackUserId, d.findings.map((f) => f.id)])).toEqual([
      ['UA', ['a1', 'a2']],
      ['UB', ['b1']],
    ]);
    expect(plan.escalations.map((f) => f.id)).toEqual(['n1']);
  });
  it('skips snoozed keys but still escalates them once reminded long enough', () => {
    const state = new Map([
      ['a1', { firstRemindedAt: NOW.getTime() - 14 * DAY, snoozedUntil: NOW.getTime() + DAY }],
      ['b1', { firstRemindedAt: NOW.getTime() - 20 * DAY, escalatedAt: 1 }],
    ]);
    const plan = planReminders([a1, a2, b1], state, NOW, opts);
    expect(plan.dms.map((d) => d.findings.map((f) => f.id))).toEqual([['a2'], ['b1']]);
    expect(plan.snoozed.map((f) => f.id)).toEqual(['a1']);
    expect(plan.escalations.map((f) => f.id)).toEqual(['a1']);
  });
});

describe('digest', () => {
  const acct = (accountId: string, findings: Finding[]) => ({
    accountId,
    sweptAt: NOW.toISOString(),
    reportGeneratedAt: NOW.toISOString(),
    userCount: 3,
    findings,
  });
  it('counts per kind and account, ranks worst offenders, and compares with last week', () => {
    const current = [
      acct('111111111111', [
        finding({ id: '1', kind: 'unused-key', userName: 'bob' }),
        finding({ id: '2', kind: 'key-past-rotation', userName: 'bob' }),
        finding({ id: '3', kind: 'console-without-mfa', userName: 'amy' }),
      ]),
      acct('222222222222', [
        finding({ id: '4', kind: 'root-mfa-off', accountId: '222222222222', userName: undefined }),
      ]),
    ];
    const first = computeDigest(current, undefined, '2026-W18', NOW);
    expect(first.digest.total).toBe(4);
    expect(first.digest.change).toBeUndefined();
    expect(first.digest.accounts.map((a) => [a.accountId, a.total])).toEqual([
      ['111111111111', 3],
      ['222222222222', 1],
    ]);
    expect(first.digest.worstOffenders.map((o) => [o.userName, o.count])).toEqual([
      ['bob', 2],
      ['amy', 1],
    ]);
    const next = computeDigest(
      [acct('111111111111', [finding({ id: '3', kind: 'console-without-mfa', userName: 'amy' })])],
      first.snapshot,
      '2026-W19',
      NOW,
    );
    expect(next.digest.change).toMatchObject({
      'unused-key': -1,
      'key-past-rotation': -1,
      'console-without-mfa': 0,
      'root-mfa-off': -1,
    });
    expect(next.digest.totalChange).toBe(-3);
    expect(next.digest.previousWeek).toBe('2026-W18');
  });
});

describe('calendar', () => {
  it('takes the day in the configured time zone and ISO weeks across year ends', () => {
    expect(localDay(new Date('2026-01-01T23:30:00Z'), 'Europe/Berlin')).toBe('2026-01-02');
    expect(localDay(new Date('2026-01-01T03:00:00Z'), 'America/New_York')).toBe('2025-12-31');
    expect(isoWeek('2021-01-03')).toBe('2020-W53');
    expect(isoWeek('2026-11-22')).toBe('2026-W47');
    expect(isoWeek('2024-12-30')).toBe('2025-W01');
  });
});
