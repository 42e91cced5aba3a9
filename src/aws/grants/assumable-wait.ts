/**
 * Waiting until IAM makes a new role assumable. IAM is eventually consistent: for some seconds
 * after CreateRole (4–10 s is typical on AWS, sometimes less), STS answers AssumeRole with
 * AccessDenied, and the requester waits for that time whatever the bot does. What the bot
 * decides is how late after the role becomes assumable it notices, and how many STS calls it
 * spends meanwhile.
 *
 * The schedule (ASSUMABLE_WAIT): the first try at once (a role IAM already serves is delivered
 * without a pause); then pauses of 500 ms, then 1 s, each shortened by up to 25 % of jitter so
 * that grants approved together do not poll in step. No pause is longer than 1 s while the wait
 * is in IAM's usual range, so the delivery comes at most about 1 s (0.44 s on average) after the
 * role becomes assumable. After 20 s of pauses, well past IAM's usual delay, the pauses double
 * up to 5 s: a role that never becomes assumable costs 31–41 calls before the 60-s timeout,
 * not one a second. A role assumable after 4 s costs 6–7 AssumeRole calls (5–6 refused), one
 * after 10 s 12–15 (counted without the calls' own latency, which only spaces them further). On AWS's STS quota (hundreds of calls per second per account) even a
 * hundred grants waiting at once is far from throttling; throttling itself is retried by the
 * SDK's own backoff, not here.
 */
import { isAwsError, toAwsError } from '../aws-errors.js';

export const ASSUMABLE_WAIT = {
  /** The pause after the first refused try. */
  firstPauseMs: 500,
  /** The longest pause while the wait is in IAM's usual range: the bound on the delivery's lag. */
  capMs: 1000,
  /** Each pause is shortened by a random fraction up to this. */
  jitter: 0.25,
  /** After this much pausing the role is unusually slow: the pauses grow again... */
  patientAfterMs: 20_000,
  /** ...up to this. */
  patientCapMs: 5000,
  /** How long to pause in all before giving up (RoleGrantEngineOptions.assumableTimeoutMs). */
  timeoutMs: 60_000,
} as const;

/** STS answers these while the role (or its trust) has not reached every IAM endpoint yet. */
const NOT_YET = ['AccessDenied', 'AccessDeniedException', 'NoSuchEntity'];

/**
 * The pause before the next try, unjittered: `previousMs` is the last one (undefined before the
 * first), `waitedMs` the pauses so far.
 */
export function nextAssumablePause(previousMs: number | undefined, waitedMs: number): number {
  const { firstPauseMs, capMs, patientAfterMs, patientCapMs } = ASSUMABLE_WAIT;
  if (previousMs === undefined) return firstPauseMs;
  return Math.min(waitedMs < patientAfterMs ? capMs : patientCapMs, previousMs * 2);
}

export interface AssumableWaitOptions {
  timeoutMs?: number;
  /** Injectable so tests do not really wait. */
  sleep?: (ms: number) => Promise<void>;
  /** Injectable for the jitter; [0, 1). */
  random?: () => number;
}

export interface Assumed<T> {
  value: T;
  /** AssumeRole tries, the successful one included. */
  tries: number;
  /** The pauses in all, ms. */
  waitedMs: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt` (an AssumeRole on `roleArn`) until it succeeds: retries the answers of a role
 * IAM has not made assumable yet on the schedule above, and gives up after `timeoutMs` of pauses
 * with the last refusal. Any other error ends the wait at once.
 */
export async function waitUntilAssumable<T>(
  roleArn: string,
  attempt: () => Promise<T>,
  options: AssumableWaitOptions = {},
): Promise<Assumed<T>> {
  const timeout = options.timeoutMs ?? ASSUMABLE_WAIT.timeoutMs;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  let waited = 0;
  let step: number | undefined;
  for (let tries = 1; ; tries++) {
    try {
      return { value: await attempt(), tries, waitedMs: waited };
    } catch (error) {
      const pending = isAwsError(error, ...NOT_YET);
      if (!pending || waited >= timeout) {
        throw toAwsError(
          error,
          `assuming ${roleArn}${pending ? ` (still not assumable after ${Math.round(waited / 1000)} s, ${tries} tries)` : ''}`,
        );
      }
      step = nextAssumablePause(step, waited);
      const pause = Math.min(step * (1 - ASSUMABLE_WAIT.jitter * random()), timeout - waited);
      await sleep(pause);
      waited += pause;
    }
  }
}
