/**
 * How many revocations the worker role asks AWS for at once, and what it does when AWS says
 * "slow down". When thousands of grants end together (10,000 within a minute in the
 * `revoke-scale` bench), starting every revoke job's IAM calls at once would throttle every
 * account and turn BullMQ's retries into a storm. So, per worker process:
 *
 * - at most `perAccount` revocations run at once in one AWS account (IAM throttles per account),
 *   and at most `concurrency` in all;
 * - a retryable AWS error (throttling, or a 5xx that outlived the SDK's own retries) pauses that
 *   account — every revocation waiting for it, not only the one that failed — for an exponential
 *   back-off with jitter (`backoffMs` doubling per consecutive throttle, at most `maxBackoffMs`),
 *   then the revocation is tried again, up to `throttleRetries` times; after that the error goes
 *   to the job, whose own retries (queues.ts) take over;
 * - each account also learns a pace (additive-increase/multiplicative-decrease, as TCP and the
 *   SDK's adaptive retry mode do): a throttle sets the least time between two revocations
 *   starting in that account to a tenth more than the gap that proved too short, each success
 *   narrows it by 1 %. Without it, a revocation that starts the moment the previous one finished
 *   meets a full throttling window every time; with it, an account throttles about once in ten
 *   revocations and runs within about 10 % of its budget;
 * - attempts and throttled answers are counted (`counts`, and
 *   `aws_access_revocation_attempts_total{outcome}` through `observe`).
 *
 * The limits are per process: with R worker replicas an account sees up to R × perAccount
 * revocations at once. The revoke engine call is idempotent, so trying it again is safe.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isRetryableAwsError } from '../aws/aws-errors.js';
import type { GrantEngine } from '../domain/ports.js';
import { ErrorCode } from '../errors.js';

export interface RevocationLimits {
  /** Revocations in flight at once in this process, all accounts together. */
  concurrency: number;
  /** Revocations in flight at once in one account. */
  perAccount: number;
  /** Times a throttled revocation is tried again here before its job sees the error. */
  throttleRetries: number;
  /** First back-off after a throttle (ms); doubles per consecutive throttle of the account. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export interface RevocationCounts {
  /** Engine revoke calls started (first tries and retries). */
  attempts: number;
  /** Of those, answered with a retryable AWS error (throttling, 5xx). */
  throttled: number;
  /** Revocations handed back to their job after `throttleRetries` retries. */
  gaveUp: number;
}

/** A counting semaphore with a FIFO of waiters. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  constructor(size: number) {
    this.free = size;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }
  get idle(): boolean {
    return this.waiting.length === 0;
  }
}

interface AccountGate {
  slots: Slots;
  users: number;
  pausedUntil: number;
  strikes: number;
  /** Least time between two revocation attempts starting in the account (learned, ms). */
  spacing: number;
  lastStart: number;
  previousStart: number;
}

/** A retryable AWS answer: the real engine's AwsError, or an SDK error that was not wrapped. */
export function isAwsSlowDown(error: unknown): boolean {
  return (error as { code?: unknown })?.code === ErrorCode.AwsRetryable || isRetryableAwsError(error);
}

export class RevocationLimiter {
  readonly counts: RevocationCounts = { attempts: 0, throttled: 0, gaveUp: 0 };
  private readonly overall: Slots;
  private readonly accounts = new Map<string, AccountGate>();
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(
    private readonly limits: RevocationLimits,
    private readonly observe: (outcome: 'started' | 'throttled' | 'gave-up') => void = () => undefined,
  ) {
    this.overall = new Slots(limits.concurrency);
    this.backoffMs = limits.backoffMs ?? 250;
    this.maxBackoffMs = limits.maxBackoffMs ?? 8000;
  }

  private gate(accountId: string): AccountGate {
    let gate = this.accounts.get(accountId);
    if (!gate) {
      gate = {
        slots: new Slots(this.limits.perAccount),
        users: 0,
        pausedUntil: 0,
        strikes: 0,
        spacing: 0,
        lastStart: -Infinity,
        previousStart: -Infinity,
      };
      this.accounts.set(accountId, gate);
    }
    return gate;
  }

  /** Runs `revoke` within the account's and the overall bound, backing off on throttling. */
  async run<T>(accountId: string, revoke: () => Promise<T>): Promise<T> {
    const gate = this.gate(accountId);
    gate.users += 1;
    await gate.slots.acquire();
    try {
      for (let retry = 0; ; retry++) {
        // Several waiters of one account may wake for the same moment: each re-checks.
        for (;;) {
          const pause = Math.max(gate.pausedUntil, gate.lastStart + gate.spacing) - performance.now();
          if (pause <= 0) break;
          await sleep(pause);
        }
        gate.previousStart = gate.lastStart;
        gate.lastStart = performance.now();
        await this.overall.acquire();
        try {
          this.counts.attempts += 1;
          this.observe('started');
          const result = await revoke();
          gate.strikes = 0;
          gate.spacing *= 0.99;
          return result;
        } catch (error) {
          if (!isAwsSlowDown(error)) throw error;
          this.counts.throttled += 1;
          this.observe('throttled');
          if (retry >= this.limits.throttleRetries) {
            this.counts.gaveUp += 1;
            this.observe('gave-up');
            throw error;
          }
          gate.strikes += 1;
          // The gap that proved too short (since the attempt before), widened by a tenth.
          const tried = gate.lastStart - gate.previousStart;
          const gap = Math.max(gate.spacing, Number.isFinite(tried) ? tried : 0);
          gate.spacing = Math.min(this.maxBackoffMs, Math.max(this.backoffMs, gap * 1.1));
          const ceiling = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (gate.strikes - 1));
          // Half fixed, half jitter: waiters of one account do not all come back at one instant.
          const backoff = ceiling / 2 + (Math.random() * ceiling) / 2;
          gate.pausedUntil = Math.max(gate.pausedUntil, performance.now() + backoff);
        } finally {
          this.overall.release();
        }
      }
    } finally {
      gate.slots.release();
      gate.users -= 1;
      // An account that has not throttled lately is forgotten; one still pacing is kept.
      if (gate.users === 0 && gate.slots.idle && gate.spacing < 1 && gate.pausedUntil <= performance.now()) {
        this.accounts.delete(accountId);
      }
    }
  }
}

/** The engine with its `revoke` (and orphan removal) going through `limiter`. */
export function limitRevocations(engine: GrantEngine, limiter: RevocationLimiter): GrantEngine {
  const limited: GrantEngine = {
    grant: (request) => engine.grant(request),
    revoke: (accountId, requestId) => limiter.run(accountId, () => engine.revoke(accountId, requestId)),
    extend: (accountId, requestId, expiresAt) => engine.extend(accountId, requestId, expiresAt),
    refreshDelivery: (accountId, requestId, requester) =>
      engine.refreshDelivery(accountId, requestId, requester),
    reconcile: (accountId, active) => engine.reconcile(accountId, active),
  };
  // Every optional method of the port is forwarded as well: a wrapper that drops one changes
  // behaviour silently (without `identify`, an identity-center grant would not find its user).
  if (engine.roleName) limited.roleName = (requestId) => engine.roleName!(requestId);
  const identify = engine.identify?.bind(engine);
  if (identify)
    limited.identify = (accountId, templateName, requester) => identify(accountId, templateName, requester);
  const removeForeignRole = engine.removeForeignRole?.bind(engine);
  if (removeForeignRole) {
    limited.removeForeignRole = (accountId, role) =>
      limiter.run(accountId, () => removeForeignRole(accountId, role));
  }
  return limited;
}
