/**
 * Who holds an Identity Center account assignment, in Redis (identity-center backend, see
 * docs/aws-grants.md "Identity Center"). One assignment (user × permission set × account) can
 * be held by several requests of the same person at once; its holders hash is the reference
 * count, changed only by Lua scripts (hold-assignment.lua, release-assignment.lua), so of two
 * requests ending at once exactly one sees that none is left. AWS calls on one assignment are
 * serialised by a lock (`withLock`), so a grant never races the deletion of the assignment it
 * relies on. Also kept here: the session denies the backend puts on a permission set at revoke,
 * until the sessions they end have expired.
 *
 * Keys (all under `redis.prefix`, so one slot on Redis Cluster):
 *   <prefix>:idc:holders:<account>:<set hash>:<user id>   hash request id → AssignmentHold JSON
 *   <prefix>:idc:grant:<request id>                       → the assignment key above
 *   <prefix>:idc:denies:<set hash>                        hash <account>|<user name> → SessionDeny JSON
 *   <prefix>:idc:permission-set:<template>                → the template's permission set ARN
 *   <prefix>:idc:lock:<name>                              lock token
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError, ErrorCode } from '../errors.js';
import { runScript } from './lua-scripts.js';

export interface AssignmentHold {
  requestId: string;
  accountId: string;
  instanceArn: string;
  permissionSetArn: string;
  permissionSetName: string;
  /** The Identity Center user id (the assignment's principal). */
  principalId: string;
  /** Their user name: the session name of their `AWSReservedSSO_…` role sessions. */
  userName: string;
  templateName: string;
  heldSince: number;
}

/** A deny for one user's sessions in one account issued before `issuedBefore` (ms). */
export interface SessionDeny {
  accountId: string;
  userName: string;
  issuedBefore: number;
  /** When every session it targets has expired (ms): the statement is dropped after. */
  until: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A short, stable key part for a permission set ARN (no ARN parsing). */
export function permissionSetKey(permissionSetArn: string): string {
  return createHash('sha256').update(permissionSetArn).digest('hex').slice(0, 20);
}

export class AssignmentHolders {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly sleep: (ms: number) => Promise<void> = defaultSleep,
  ) {}

  assignmentKey(accountId: string, permissionSetArn: string, principalId: string): string {
    return `${accountId}:${permissionSetKey(permissionSetArn)}:${principalId}`;
  }

  private holdersKey(assignmentKey: string): string {
    return `${this.prefix}:idc:holders:${assignmentKey}`;
  }

  private indexKey(requestId: string): string {
    return `${this.prefix}:idc:grant:${requestId}`;
  }

  /** Records the hold; returns how many requests hold the assignment now (1: the first). */
  async hold(hold: AssignmentHold): Promise<number> {
    const key = this.assignmentKey(hold.accountId, hold.permissionSetArn, hold.principalId);
    const count = await runScript(
      this.redis,
      'holdAssignment',
      [this.holdersKey(key), this.indexKey(hold.requestId)],
      [hold.requestId, JSON.stringify(hold), key],
    );
    return Number(count);
  }

  /**
   * Lets go of request `requestId`'s hold. Returns the hold and how many holders remain, or
   * undefined when the request holds nothing (never granted here, or released already).
   */
  async release(requestId: string): Promise<{ hold: AssignmentHold; remaining: number } | undefined> {
    const hold = await this.holdOf(requestId);
    if (!hold) return undefined;
    const key = this.assignmentKey(hold.accountId, hold.permissionSetArn, hold.principalId);
    const [removed, remaining] = (await runScript(
      this.redis,
      'releaseAssignment',
      [this.holdersKey(key), this.indexKey(requestId)],
      [requestId],
    )) as [number, number];
    return Number(removed) === 1 ? { hold, remaining: Number(remaining) } : undefined;
  }

  async holdOf(requestId: string): Promise<AssignmentHold | undefined> {
    const key = await this.redis.get(this.indexKey(requestId));
    if (!key) return undefined;
    const raw = await this.redis.hget(this.holdersKey(key), requestId);
    return raw ? (JSON.parse(raw) as AssignmentHold) : undefined;
  }

  async holdersOf(
    accountId: string,
    permissionSetArn: string,
    principalId: string,
  ): Promise<AssignmentHold[]> {
    const all = await this.redis.hvals(
      this.holdersKey(this.assignmentKey(accountId, permissionSetArn, principalId)),
    );
    return all.map((raw) => JSON.parse(raw) as AssignmentHold);
  }

  /** Which of `requestIds` hold an Identity Center assignment (were granted by that backend). */
  async heldBy(requestIds: readonly string[]): Promise<Set<string>> {
    if (requestIds.length === 0) return new Set();
    const keys = await this.redis.mget(requestIds.map((id) => this.indexKey(id)));
    return new Set(requestIds.filter((_, i) => keys[i]));
  }

  async permissionSetArn(templateName: string): Promise<string | undefined> {
    return (await this.redis.get(`${this.prefix}:idc:permission-set:${templateName}`)) ?? undefined;
  }

  async rememberPermissionSet(templateName: string, arn: string): Promise<void> {
    await this.redis.set(`${this.prefix}:idc:permission-set:${templateName}`, arn);
  }

  /** Adds (or widens) a session deny on a permission set. */
  async addSessionDeny(permissionSetArn: string, deny: SessionDeny): Promise<void> {
    const key = `${this.prefix}:idc:denies:${permissionSetKey(permissionSetArn)}`;
    const field = `${deny.accountId}|${deny.userName}`;
    const old = await this.redis.hget(key, field);
    const previous = old ? (JSON.parse(old) as SessionDeny) : undefined;
    const merged: SessionDeny = {
      ...deny,
      issuedBefore: Math.max(deny.issuedBefore, previous?.issuedBefore ?? 0),
      until: Math.max(deny.until, previous?.until ?? 0),
    };
    await this.redis.hset(key, field, JSON.stringify(merged));
  }

  /** The set's session denies still needed at `now`; expired ones are dropped from Redis. */
  async sessionDenies(permissionSetArn: string, now: number): Promise<SessionDeny[]> {
    const key = `${this.prefix}:idc:denies:${permissionSetKey(permissionSetArn)}`;
    const all = await this.redis.hgetall(key);
    const live: SessionDeny[] = [];
    const expired: string[] = [];
    for (const [field, raw] of Object.entries(all)) {
      const deny = JSON.parse(raw) as SessionDeny;
      if (deny.until <= now) expired.push(field, raw);
      else live.push(deny);
    }
    // Only if unchanged since read: a revoke may have widened an expired deny meanwhile (it holds
    // the assignment's lock, not the permission set's), and deleting that would let the revoked
    // user's live sessions go on.
    if (expired.length > 0) await runScript(this.redis, 'hdelIfUnchanged', [key], expired);
    return live.sort((a, b) => `${a.accountId}|${a.userName}`.localeCompare(`${b.accountId}|${b.userName}`));
  }

  /**
   * Runs `fn` holding the lock `name` (one Identity Center object): waits up to `waitMs` for it,
   * then gives up with a retryable error (the job tries again). The lock expires after `ttlMs`
   * in case its holder dies; only its owner releases it.
   */
  async withLock<T>(
    name: string,
    fn: () => Promise<T>,
    options: { ttlMs?: number; waitMs?: number } = {},
  ): Promise<T> {
    const key = `${this.prefix}:idc:lock:${name}`;
    const token = randomUUID();
    const ttl = options.ttlMs ?? 300_000;
    const wait = options.waitMs ?? 180_000;
    let waited = 0;
    let delay = 50;
    while ((await this.redis.set(key, token, 'PX', ttl, 'NX')) !== 'OK') {
      if (waited >= wait) {
        throw new AppError(ErrorCode.Conflict, `another grant or revoke is changing ${name}; try again`);
      }
      await this.sleep(delay);
      waited += delay;
      delay = Math.min(delay * 2, 2000);
    }
    try {
      return await fn();
    } finally {
      await runScript(this.redis, 'releaseLock', [key], [token]);
    }
  }
}
