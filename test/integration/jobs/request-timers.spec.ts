/**
 * The producers on the request path: a pending request's three timers (BullRequestScheduler)
 * and the audit-channel batch job (auditBatchScheduler), on real Redis and BullMQ.
 */
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BullRequestScheduler } from '../../../src/jobs/approval-scheduler.js';
import { auditBatchScheduler } from '../../../src/jobs/audit-batches.js';
import { QueueName, Queues } from '../../../src/jobs/queues.js';
import { ShiftClock } from '../../support/shift-clock.js';
import { testRedis, uniquePrefix } from '../../support/services.js';

let redis: Redis;
let cleanup: () => Promise<void>;
let queues: Queues;

beforeEach(async () => {
  const prefix = uniquePrefix('timers');
  ({ redis, cleanup } = await testRedis(prefix));
  queues = new Queues(redis, prefix);
});
afterEach(async () => {
  await queues.close();
  await cleanup();
});

describe('the pending timers of a request', () => {
  it('are three delayed jobs with ids from the request id, sent in one round trip', async () => {
    const clock = new ShiftClock();
    const scheduler = new BullRequestScheduler(queues, clock);
    const approvals = queues.get(QueueName.approvals);
    const add = vi.spyOn(approvals, 'add');
    const addBulk = vi.spyOn(approvals, 'addBulk');
    const now = clock.now();
    const at = { remindAt: now + 60_000, escalateAt: now + 120_000, expireAt: now + 600_000 };
    await scheduler.schedulePending('r-timers1', at);
    expect(addBulk).toHaveBeenCalledTimes(1);
    expect(add).not.toHaveBeenCalled();
    const delayed = await approvals.getDelayed();
    expect(delayed.map((j) => [j.id, j.name]).sort()).toEqual([
      ['escalate-r-timers1', 'escalate'],
      ['expire-r-timers1', 'expire'],
      ['remind-r-timers1', 'remind'],
    ]);
    for (const job of delayed) {
      const due = job.name === 'remind' ? at.remindAt : job.name === 'escalate' ? at.escalateAt : at.expireAt;
      expect(job.timestamp + job.opts.delay!).toBeGreaterThanOrEqual(due - 1000);
      expect(job.timestamp + job.opts.delay!).toBeLessThanOrEqual(due + 1000);
      expect(job.data).toEqual({ requestId: 'r-timers1' });
    }
    // Scheduling again is a no-op; a reminder after the expiry is not scheduled at all.
    await scheduler.schedulePending('r-timers1', at);
    await scheduler.schedulePending('r-timers2', {
      remindAt: now + 700_000,
      escalateAt: now + 800_000,
      expireAt: now + 600_000,
    });
    const ids = (await approvals.getDelayed()).map((j) => j.id).sort();
    expect(ids).toEqual(['escalate-r-timers1', 'expire-r-timers1', 'expire-r-timers2', 'remind-r-timers1']);
    await scheduler.cancelPending('r-timers1');
    expect((await approvals.getDelayed()).map((j) => j.id)).toEqual(['expire-r-timers2']);
  });
});

describe('the audit-channel batch job', () => {
  it('is added once per window by the first event of the window, due when the window ends', async () => {
    const clock = new ShiftClock();
    const forward = auditBatchScheduler(queues, 5, clock);
    const notify = queues.get(QueueName.notify);
    const add = vi.spyOn(notify, 'add');
    const windowOf = (t: number) => Math.floor(t / 5000);
    // Start at the beginning of a window so the three events below share it.
    clock.advance(5000 - (clock.now() % 5000) + 10);
    const first = windowOf(clock.now());
    await forward('1-0');
    await forward('2-0');
    await forward('3-0');
    expect(add).toHaveBeenCalledTimes(1);
    clock.advance(5000);
    await forward('4-0');
    expect(add).toHaveBeenCalledTimes(2);
    const jobs = await notify.getDelayed();
    expect(jobs.map((j) => j.id).sort()).toEqual([`audit-batch-${first}`, `audit-batch-${first + 1}`]);
    const job = jobs.find((j) => j.id === `audit-batch-${first}`)!;
    // Due at the end of its window, not later.
    expect(job.opts.delay).toBeGreaterThan(0);
    expect(job.opts.delay).toBeLessThanOrEqual(5000);
  });

  it('is added again when the add failed', async () => {
    const clock = new ShiftClock();
    const forward = auditBatchScheduler(queues, 5, clock);
    const notify = queues.get(QueueName.notify);
    clock.advance(5000 - (clock.now() % 5000) + 10);
    const add = vi.spyOn(notify, 'add').mockRejectedValueOnce(new Error('redis down'));
    await expect(forward('1-0')).rejects.toThrow('redis down');
    await forward('2-0');
    expect(add).toHaveBeenCalledTimes(2);
    expect(await notify.getDelayed()).toHaveLength(1);
  });
});
