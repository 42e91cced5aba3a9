import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { ASSUMABLE_WAIT, waitUntilAssumable } from '../../../src/aws/grants/assumable-wait.js';

const ROLE = 'arn:aws:iam::222222222222:role/aws-access/aws-access-req-1';

function accessDenied(): Error {
  return Object.assign(new Error('User is not authorized to perform: sts:AssumeRole'), {
    name: 'AccessDenied',
    $metadata: { httpStatusCode: 403 },
  });
}

/**
 * A fake STS whose role becomes assumable once `assumableAfterMs` of the fake time has passed;
 * the fake time moves only by the injected sleep (and `callMs` per call), so the test counts
 * tries and where they fall, and never waits.
 */
function fakeSts(assumableAfterMs: number, options: { random?: () => number; callMs?: number } = {}) {
  const state = { now: 0, tries: [] as number[] };
  const attempt = async () => {
    state.tries.push(state.now);
    state.now += options.callMs ?? 0;
    if (state.now - (options.callMs ?? 0) < assumableAfterMs) throw accessDenied();
    return 'session';
  };
  const wait = (timeoutMs?: number) =>
    waitUntilAssumable(ROLE, attempt, {
      timeoutMs,
      random: options.random,
      sleep: async (ms) => {
        state.now += ms;
      },
    });
  return { state, wait };
}

const jitters: Array<[string, () => number]> = [
  ['no jitter', () => 0],
  ['full jitter', () => 0.999],
  ['random jitter', Math.random],
];

describe('waiting until a new role is assumable', () => {
  it('tries once and does not pause when the role is assumable at once', async () => {
    const sts = fakeSts(0);
    const result = await sts.wait();
    expect(result).toEqual({ value: 'session', tries: 1, waitedMs: 0 });
  });

  for (const [name, random] of jitters) {
    for (const delayMs of [4000, 10_000]) {
      it(`a role assumable after ${delayMs / 1000} s is noticed within the 1-s cap, in a bounded number of calls (${name})`, async () => {
        const sts = fakeSts(delayMs, { random });
        const result = await sts.wait();
        const last = sts.state.tries.at(-1)!;
        const beforeLast = sts.state.tries.at(-2)!;
        // The successful try comes after the role became assumable, and the one before it was
        // still refused: so the lag is at most one pause, and no pause there exceeds the cap.
        expect(beforeLast).toBeLessThan(delayMs);
        expect(last).toBeGreaterThanOrEqual(delayMs);
        expect(last - delayMs).toBeLessThanOrEqual(ASSUMABLE_WAIT.capMs);
        // Not hammering: at most one call per 750 ms once the short first pause is over
        // (4 s: 6–7 calls, 10 s: 12–15, as assumable-wait.ts documents).
        expect(result.tries).toBe(sts.state.tries.length);
        expect(result.tries).toBeLessThanOrEqual(delayMs === 4000 ? 7 : 15);
        expect(result.tries).toBeGreaterThanOrEqual(delayMs === 4000 ? 6 : 12);
      });
    }
  }

  it('keeps the lag within the cap plus one call when each call itself takes time', async () => {
    const sts = fakeSts(7000, { callMs: 120 });
    await sts.wait();
    const last = sts.state.tries.at(-1)!;
    expect(last - 7000).toBeLessThanOrEqual(ASSUMABLE_WAIT.capMs + 120);
  });

  it('a role that never becomes assumable: pauses grow after 20 s, and it gives up at the timeout', async () => {
    const sts = fakeSts(Number.POSITIVE_INFINITY, { random: () => 0 });
    const error = await sts.wait().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(String((error as Error).message)).toMatch(/still not assumable after 60 s/);
    const tries = sts.state.tries;
    // Every try but the first falls within 60 s of pauses; the first pauses after 20 s are longer.
    expect(tries.at(-1)).toBe(ASSUMABLE_WAIT.timeoutMs);
    const gaps = tries.slice(1).map((t, i) => t - tries[i]!);
    expect(Math.max(...gaps)).toBe(ASSUMABLE_WAIT.patientCapMs);
    expect(
      gaps.filter((g, i) => tries[i]! < ASSUMABLE_WAIT.patientAfterMs && g > ASSUMABLE_WAIT.capMs),
    ).toEqual([]);
    // 31 calls without jitter (41 with the most): not one a second for the whole minute (61).
    expect(tries.length).toBe(31);
  });

  it('any other error ends the wait at once', async () => {
    let calls = 0;
    const error = await waitUntilAssumable(
      ROLE,
      async () => {
        calls += 1;
        throw Object.assign(new Error('bad'), { name: 'MalformedPolicyDocument' });
      },
      { sleep: async () => undefined },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(calls).toBe(1);
  });
});
