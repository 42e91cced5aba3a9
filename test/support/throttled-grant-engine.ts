/**
 * A stand-in for the real grant engine at AWS's pace, for the revoke-scale bench and the
 * revocation limiter's tests: every IAM call it models takes `callMs` (40 ms by default), and
 * above `callsPerSecond` calls in any one-second window of one account it answers, like IAM,
 * with a retryable throttling error (the AwsError the real engine turns an SDK `Throttling`
 * into, once the SDK's own retries are spent). A throttled call costs a round trip but does not
 * count against the window. A revoke is `revokeCalls` IAM calls (10, as RoleGrantEngine makes:
 * docs/benchmarks.md, `aws`), a grant or an extend 5; a revoke interrupted by throttling resumes
 * where it stopped when called again, as the real engine's idempotent steps do.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AwsError } from '../../src/aws/aws-errors.js';
import type {
  Delivery,
  GrantEngine,
  GrantRequest,
  GrantResult,
  ReconcileReport,
  Requester,
} from '../../src/domain/ports.js';
import { RecordingGrantEngine } from './recording-grant-engine.js';

export interface ThrottledEngineOptions {
  callMs?: number;
  callsPerSecond?: number;
  revokeCalls?: number;
}

export interface ThrottledEngineCounts {
  /** IAM calls answered, throttled ones included. */
  calls: number;
  throttled: number;
  revokes: number;
  /** The most calls any account got through in one sliding second (≤ callsPerSecond). */
  maxCallsPerSecond: number;
}

export class ThrottledGrantEngine implements GrantEngine {
  readonly callMs: number;
  readonly callsPerSecond: number;
  readonly revokeCalls: number;
  private readonly windows = new Map<string, number[]>();
  private readonly progress = new Map<string, number>();
  readonly counts: ThrottledEngineCounts = { calls: 0, throttled: 0, revokes: 0, maxCallsPerSecond: 0 };

  constructor(options: ThrottledEngineOptions = {}) {
    this.callMs = options.callMs ?? 40;
    this.callsPerSecond = options.callsPerSecond ?? 10;
    this.revokeCalls = options.revokeCalls ?? 10;
  }

  /** One IAM call on `accountId`: admitted (and counted) at its start, answered after callMs. */
  private async call(accountId: string, what: string): Promise<void> {
    const now = performance.now();
    const window = (this.windows.get(accountId) ?? []).filter((t) => t > now - 1000);
    this.windows.set(accountId, window);
    this.counts.calls += 1;
    const admitted = window.length < this.callsPerSecond;
    if (admitted) {
      window.push(now);
      this.counts.maxCallsPerSecond = Math.max(this.counts.maxCallsPerSecond, window.length);
    }
    await sleep(this.callMs);
    if (!admitted) {
      this.counts.throttled += 1;
      throw new AwsError('Throttling', true, `${what} failed: Throttling: Rate exceeded`);
    }
  }

  private async calls(accountId: string, key: string, total: number, what: string): Promise<void> {
    for (let done = this.progress.get(key) ?? 0; done < total; done++) {
      await this.call(accountId, what);
      this.progress.set(key, done + 1);
    }
    this.progress.delete(key);
  }

  roleName(requestId: string): string {
    return `aws-access-${requestId}`;
  }

  async grant(request: GrantRequest): Promise<GrantResult> {
    await this.calls(request.accountId, `grant ${request.requestId}`, 5, 'CreateRole');
    const delivery = RecordingGrantEngine.delivery(request.accountId, request.requestId, request.expiresAt);
    return { roleArn: delivery.roleArn, roleName: delivery.roleName, delivery };
  }

  async revoke(accountId: string, requestId: string): Promise<{ removed: boolean }> {
    await this.calls(accountId, `revoke ${requestId}`, this.revokeCalls, 'DeleteRole');
    this.counts.revokes += 1;
    return { removed: true };
  }

  async extend(accountId: string, requestId: string, _expiresAt: Date): Promise<void> {
    await this.calls(accountId, `extend ${requestId}`, 5, 'PutRolePolicy');
  }

  async refreshDelivery(accountId: string, requestId: string, _requester: Requester): Promise<Delivery> {
    await this.call(accountId, 'AssumeRole');
    return RecordingGrantEngine.delivery(accountId, requestId, new Date(Date.now() + 3600_000));
  }

  async reconcile(accountId: string, _activeGrants: ReadonlyMap<string, Date>): Promise<ReconcileReport> {
    await this.call(accountId, 'ListRoles');
    return { orphaned: [], overdue: [], missing: [] };
  }
}
