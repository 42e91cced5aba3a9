/**
 * The PagerDuty and Opsgenie clients and the cached directory, against the loopback fake of both
 * APIs (which checks headers and query parameters as the real ones do).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OnCallSchedule } from '../../../src/domain/on-call.js';
import { CachedOnCallDirectory, type OnCallDirectoryOptions } from '../../../src/oncall/on-call-directory.js';
import { parseOpsgenieOnCalls } from '../../../src/oncall/opsgenie.js';
import { parsePagerDutyOnCalls } from '../../../src/oncall/pagerduty.js';
import {
  FAKE_OPSGENIE_KEY,
  FAKE_PAGERDUTY_TOKEN,
  startFakeOnCall,
  type FakeOnCall,
} from '../../support/fake-oncall.js';
import { ShiftClock } from '../../support/shift-clock.js';

const PD: OnCallSchedule = { provider: 'pagerduty', schedule: 'PSCHED1' };
const OG_ID = '3f1c2a4b-5d6e-4f70-8a9b-0c1d2e3f4a5b';
const OG_BY_ID: OnCallSchedule = { provider: 'opsgenie', schedule: OG_ID };
const OG_BY_NAME: OnCallSchedule = { provider: 'opsgenie', schedule: 'Platform Primary' };

let fake: FakeOnCall;
beforeAll(async () => {
  fake = await startFakeOnCall();
});
afterAll(async () => {
  await fake.stop();
});
beforeEach(() => {
  fake.calls.length = 0;
  fake.fail('pagerduty', undefined);
  fake.fail('opsgenie', undefined);
  fake.setPagerDuty('PSCHED1', ['Olga.Oncall@example.com']);
  fake.setOpsgenie({ id: OG_ID, name: 'Platform Primary' }, ['sam@example.com', 'olga.oncall@example.com']);
});

function directory(overrides: Partial<OnCallDirectoryOptions> = {}, clock = new ShiftClock()) {
  const failures: string[] = [];
  const dir = new CachedOnCallDirectory({
    apiUrls: { pagerduty: fake.pagerdutyUrl, opsgenie: fake.opsgenieUrl },
    tokens: { pagerduty: FAKE_PAGERDUTY_TOKEN, opsgenie: FAKE_OPSGENIE_KEY },
    cacheForSeconds: 60,
    call: { timeoutMs: 300, attempts: 3, backoffMs: 10 },
    clock,
    onFailure: (s, reason) => failures.push(`${s.provider}/${s.schedule}: ${reason}`),
    ...overrides,
  });
  return { dir, clock, failures };
}

describe('PagerDuty client', () => {
  it('asks /oncalls for the schedule with users included and answers their e-mails, lower-cased', async () => {
    const { dir } = directory();
    expect(await dir.onCallNow(PD)).toEqual({ ok: true, emails: ['olga.oncall@example.com'] });
    const [call] = fake.callsTo('pagerduty');
    expect(call!.path).toBe('/oncalls');
    expect(call!.query.getAll('schedule_ids[]')).toEqual(['PSCHED1']);
    expect(call!.query.getAll('include[]')).toEqual(['users']);
    expect(Date.parse(call!.query.get('since')!)).toBeLessThan(Date.parse(call!.query.get('until')!));
    expect(call!.status).toBe(200);
  });

  it('a wrong token is a 401: unavailable, not retried, and the reason never holds the token', async () => {
    const { dir, failures } = directory({ tokens: { pagerduty: 'wrong-token-123' } });
    const answer = await dir.onCallNow(PD);
    expect(answer).toEqual({ ok: false, reason: 'PagerDuty answered HTTP 401' });
    expect(fake.callsTo('pagerduty')).toHaveLength(1);
    expect(failures.join()).not.toContain('wrong-token-123');
  });

  it('parsing keeps only entries of this schedule whose shift covers now (end null: indefinitely)', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    const entry = (email: string, schedule: string | null, start: string, end: string | null) => ({
      user: { email },
      schedule: schedule ? { id: schedule } : null,
      start,
      end,
    });
    const body = {
      oncalls: [
        entry('a@example.com', 'P1', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'),
        entry('b@example.com', 'P1', '2025-12-01T00:00:00Z', null),
        entry('c@example.com', 'P2', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'),
        entry('d@example.com', null, '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'),
        entry('e@example.com', 'P1', '2026-01-01T12:00:01Z', '2026-01-02T00:00:00Z'),
        entry('f@example.com', 'P1', '2026-01-01T00:00:00Z', '2026-01-01T12:00:00Z'),
        {
          user: { id: 'PU1', type: 'user_reference' },
          schedule: { id: 'P1' },
          start: '2026-01-01T00:00:00Z',
          end: null,
        },
      ],
    };
    expect(parsePagerDutyOnCalls(body, 'P1', now)).toEqual({
      ok: true,
      emails: ['a@example.com', 'b@example.com'],
    });
    expect(parsePagerDutyOnCalls({ error: 'x' }, 'P1', now).ok).toBe(false);
    expect(parsePagerDutyOnCalls(null, 'P1', now).ok).toBe(false);
  });
});

describe('Opsgenie client', () => {
  it('looks a UUID up by id and anything else by name, flat, with the GenieKey header', async () => {
    const { dir } = directory();
    const expected = { ok: true, emails: ['sam@example.com', 'olga.oncall@example.com'] };
    expect(await dir.onCallNow(OG_BY_ID)).toEqual(expected);
    expect(await dir.onCallNow(OG_BY_NAME)).toEqual(expected);
    const [byId, byName] = fake.callsTo('opsgenie');
    expect(byId!.path).toBe(`/v2/schedules/${OG_ID}/on-calls`);
    expect(byId!.query.get('scheduleIdentifierType')).toBe('id');
    expect(byId!.query.get('flat')).toBe('true');
    expect(byName!.path).toBe('/v2/schedules/Platform%20Primary/on-calls');
    expect(byName!.query.get('scheduleIdentifierType')).toBe('name');
  });

  it('an unknown schedule (404) or a wrong key (401) is unavailable, never an empty list', async () => {
    const { dir } = directory();
    expect(await dir.onCallNow({ provider: 'opsgenie', schedule: 'No Such Schedule' })).toEqual({
      ok: false,
      reason: 'Opsgenie answered HTTP 404',
    });
    const { dir: wrongKey } = directory({ tokens: { opsgenie: 'nope' } });
    expect((await wrongKey.onCallNow(OG_BY_ID)).ok).toBe(false);
  });

  it('parsing needs data.onCallRecipients (the flat answer)', () => {
    expect(
      parseOpsgenieOnCalls({ data: { onCallRecipients: ['A@example.com', 'a@example.com', 7] } }),
    ).toEqual({
      ok: true,
      emails: ['a@example.com'],
    });
    expect(parseOpsgenieOnCalls({ data: { onCallParticipants: [] } }).ok).toBe(false);
  });
});

describe('failures', () => {
  it.each(['pagerduty', 'opsgenie'] as const)(
    '%s answering 500 is retried with backoff, then given up as unavailable (and logged)',
    async (provider) => {
      fake.fail(provider, { status: 500 });
      const { dir, failures } = directory();
      const answer = await dir.onCallNow(provider === 'pagerduty' ? PD : OG_BY_ID);
      expect(answer.ok).toBe(false);
      expect(!answer.ok && answer.reason).toMatch(/answered HTTP 500 \(3 tries\)/);
      expect(fake.callsTo(provider)).toHaveLength(3);
      expect(failures).toHaveLength(1);
    },
  );

  it('a timeout is unavailable after the tries, each bounded by timeoutMs', async () => {
    fake.fail('pagerduty', 'timeout');
    const { dir } = directory({ call: { timeoutMs: 150, attempts: 2, backoffMs: 10 } });
    const started = Date.now();
    const answer = await dir.onCallNow(PD);
    expect(answer).toEqual({ ok: false, reason: 'PagerDuty did not answer within 150 ms (2 tries)' });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(fake.callsTo('pagerduty')).toHaveLength(2);
  });

  it('a 429 is retried and a later success answers', async () => {
    fake.fail('pagerduty', { status: 429 });
    const { dir } = directory({ call: { timeoutMs: 1000, attempts: 3, backoffMs: 100 } });
    const pending = dir.onCallNow(PD);
    setTimeout(() => fake.fail('pagerduty', undefined), 50);
    expect(await pending).toEqual({ ok: true, emails: ['olga.oncall@example.com'] });
  });

  it('without a token nothing is asked and the schedule is unavailable', async () => {
    const { dir } = directory({ tokens: {} });
    expect(await dir.onCallNow(PD)).toEqual({ ok: false, reason: 'no PagerDuty API token configured' });
    expect(fake.calls).toHaveLength(0);
  });
});

describe('cache', () => {
  it('two look-ups within a minute make one call; after the minute the schedule is asked again', async () => {
    const { dir, clock } = directory();
    await dir.onCallNow(PD);
    fake.setPagerDuty('PSCHED1', ['next@example.com']);
    clock.advance(59_000);
    expect(await dir.onCallNow(PD)).toEqual({ ok: true, emails: ['olga.oncall@example.com'] });
    expect(fake.callsTo('pagerduty')).toHaveLength(1);
    clock.advance(2_000);
    expect(await dir.onCallNow(PD)).toEqual({ ok: true, emails: ['next@example.com'] });
    expect(fake.callsTo('pagerduty')).toHaveLength(2);
  });

  it('is kept per provider and schedule; concurrent look-ups share one call; a failure is not cached', async () => {
    const { dir } = directory({ call: { timeoutMs: 300, attempts: 1 } });
    await Promise.all([
      dir.onCallNow(PD),
      dir.onCallNow(PD),
      dir.onCallNow(OG_BY_ID),
      dir.onCallNow(OG_BY_NAME),
    ]);
    expect(fake.callsTo('pagerduty')).toHaveLength(1);
    expect(fake.callsTo('opsgenie')).toHaveLength(2);

    const other: OnCallSchedule = { provider: 'pagerduty', schedule: 'PSCHED2' };
    fake.fail('pagerduty', { status: 503 });
    expect((await dir.onCallNow(other)).ok).toBe(false);
    fake.fail('pagerduty', undefined);
    fake.setPagerDuty('PSCHED2', ['x@example.com']);
    expect(await dir.onCallNow(other)).toEqual({ ok: true, emails: ['x@example.com'] });
  });
});
