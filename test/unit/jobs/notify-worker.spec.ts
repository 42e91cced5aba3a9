import { DelayedError, type Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { RetryLaterError } from '../../../src/domain/retry-later.js';
import { delayOnRetryLater } from '../../../src/jobs/notify-worker.js';

function fakeJob() {
  const moved: Array<{ at: number; token: string }> = [];
  const job = {
    moveToDelayed: async (at: number, token: string) => {
      moved.push({ at, token });
    },
  } as unknown as Job;
  return { job, moved };
}

const clock = { now: () => 1_000_000 };

describe('a notify job the far side rate-limits', () => {
  it('moves back to delayed until Retry-After by the service clock, without spending the attempt', async () => {
    const { job, moved } = fakeJob();
    await expect(
      delayOnRetryLater(job, 'tok', clock, () => Promise.reject(new RetryLaterError(3))),
    ).rejects.toBeInstanceOf(DelayedError);
    expect(moved).toEqual([{ at: 1_003_000, token: 'tok' }]);
  });

  it('fails the attempt for any other error, so BullMQ backs off and retries', async () => {
    const { job, moved } = fakeJob();
    const boom = new Error('not_in_channel');
    await expect(delayOnRetryLater(job, 'tok', clock, () => Promise.reject(boom))).rejects.toBe(boom);
    expect(moved).toHaveLength(0);
  });

  it('returns what the call returned', async () => {
    const { job } = fakeJob();
    await expect(delayOnRetryLater(job, 'tok', clock, async () => 5)).resolves.toBe(5);
  });
});
