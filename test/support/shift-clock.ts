import type { Clock } from '../../src/domain/ports.js';

/**
 * Real time plus an offset a test moves forward: the service sees time pass (a TTL or a grant's
 * end go by) while BullMQ, whose delays were computed from the earlier time, fires nothing yet —
 * exactly a late expire or revoke job.
 */
export class ShiftClock implements Clock {
  private offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  advance(ms: number): void {
    this.offset += ms;
  }
}
