/**
 * RequestScheduler on BullMQ: delayed jobs whose ids derive from the request id, so scheduling
 * twice is a no-op and cancelling needs no bookkeeping. Pending nudges go on the approvals
 * queue; the grant's end (revoke-<id>, warn-<id>) on the grants queue, whose workers arrive
 * with the revocation work.
 */
import type { Clock } from '../domain/ports.js';
import type { RequestScheduler } from '../domain/request-ports.js';
import { jobId, QueueName, type Queues } from './queues.js';

export interface RequestJobData {
  requestId: string;
}

export const ApprovalJob = { remind: 'remind', escalate: 'escalate', expire: 'expire' } as const;
export const GrantJob = { revoke: 'revoke', warn: 'warn' } as const;

export class BullRequestScheduler implements RequestScheduler {
  constructor(
    private readonly queues: Queues,
    private readonly clock: Clock,
  ) {}

  private delay(at: number): number {
    return Math.max(0, at - this.clock.now());
  }

  private async remove(queue: QueueName, ids: string[]): Promise<void> {
    const q = this.queues.get(queue);
    // A job that is running right now cannot be removed; its handler re-checks the request state.
    await Promise.all(ids.map((id) => q.remove(id).catch(() => 0)));
  }

  async schedulePending(
    requestId: string,
    at: { remindAt: number; escalateAt: number; expireAt: number },
  ): Promise<void> {
    const q = this.queues.get(QueueName.approvals);
    const data: RequestJobData = { requestId };
    const jobs: Array<[string, string, number]> = [
      [ApprovalJob.remind, jobId.remind(requestId), at.remindAt],
      [ApprovalJob.escalate, jobId.escalate(requestId), at.escalateAt],
      [ApprovalJob.expire, jobId.expire(requestId), at.expireAt],
    ];
    // Escalation and reminder after expiry would be noise.
    const due = jobs.filter(([name, , time]) => name === ApprovalJob.expire || time < at.expireAt);
    // One round trip (addBulk sends the adds in one MULTI) instead of one per timer.
    await q.addBulk(
      due.map(([name, id, time]) => ({
        name,
        data,
        opts: { jobId: id, delay: this.delay(time), removeOnComplete: true },
      })),
    );
  }

  async cancelPending(requestId: string): Promise<void> {
    await this.remove(QueueName.approvals, [
      jobId.remind(requestId),
      jobId.escalate(requestId),
      jobId.expire(requestId),
    ]);
  }

  async scheduleGrantEnd(requestId: string, at: { revokeAt: number; warnAt: number }): Promise<void> {
    await this.cancelGrantEnd(requestId);
    const q = this.queues.get(QueueName.grants);
    const data: RequestJobData = { requestId };
    await q.add(GrantJob.revoke, data, { jobId: jobId.revoke(requestId), delay: this.delay(at.revokeAt) });
    if (at.warnAt > this.clock.now()) {
      await q.add(GrantJob.warn, data, { jobId: jobId.warn(requestId), delay: this.delay(at.warnAt) });
    }
  }

  async cancelGrantEnd(requestId: string): Promise<void> {
    await this.remove(QueueName.grants, [jobId.revoke(requestId), jobId.warn(requestId)]);
  }
}
