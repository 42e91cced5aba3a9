/**
 * Access requests in Redis: one hash per request, a sorted set of approvals per request, and
 * sorted-set indexes by requester, by state and by expiry. State changes run as Lua scripts
 * (lua/*.lua) so each is an atomic compare-and-set. Never holds credentials: a Delivery is not
 * a field of AccessRequest and never reaches this module.
 */
import type { Redis } from 'ioredis';
import type { AccessRequest } from '../domain/access-request.js';
import {
  canTransition,
  FINAL_STATES,
  ForbiddenTransitionError,
  isRequestState,
  OPEN_STATES,
  REQUEST_STATES,
  type RequestState,
} from '../domain/model/state.js';
import type { Clock } from '../domain/ports.js';
import {
  OpenRequestLimitError,
  RequestExistsError,
  type AnnotateChange,
  type ApproveOutcome,
  type OpenRequestLimit,
  type RequestPatch,
  type RequestStore,
  type TransitionChange,
  type TransitionOutcome,
} from '../domain/request-ports.js';
import { runScript } from './lua-scripts.js';

const JSON_FIELDS = new Set<keyof AccessRequest>([
  'ouPath',
  'message',
  'pendingExtension',
  'effectiveAccess',
]);
const NUMBER_FIELDS = new Set<keyof AccessRequest>([
  'version',
  'durationSeconds',
  'approvalsRequired',
  'createdAt',
  'updatedAt',
  'pendingUntil',
  'decidedAt',
  'startsAt',
  'expiresAt',
  'extensions',
  'revokedAt',
  'reviewedAt',
]);
const BOOLEAN_FIELDS = new Set<keyof AccessRequest>(['breakGlass', 'autoApproved']);

function encodeValue(field: keyof AccessRequest, value: unknown): string {
  if (JSON_FIELDS.has(field)) return JSON.stringify(value);
  if (BOOLEAN_FIELDS.has(field)) return value ? '1' : '0';
  return String(value);
}

export function encodeRequest(request: AccessRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(request) as Array<[keyof AccessRequest, unknown]>) {
    if (key === 'approvals' || value === undefined || value === null) continue;
    out[key] = encodeValue(key, value);
  }
  return out;
}

function encodePatch(patch: RequestPatch): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(patch) as Array<[keyof AccessRequest, unknown]>) {
    if (key === 'approvals' || key === 'state' || key === 'version' || key === 'id') continue;
    if (value === undefined) continue;
    out[key] = value === null ? null : encodeValue(key, value);
  }
  return out;
}

export function decodeRequest(hash: Record<string, string>, approvals: string[]): AccessRequest | undefined {
  if (!hash.id || !hash.state || !isRequestState(hash.state)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(hash) as Array<[keyof AccessRequest, string]>) {
    if (JSON_FIELDS.has(key)) out[key] = JSON.parse(raw);
    else if (NUMBER_FIELDS.has(key)) out[key] = Number(raw);
    else if (BOOLEAN_FIELDS.has(key)) out[key] = raw === '1';
    else out[key] = raw;
  }
  const list: AccessRequest['approvals'] = [];
  for (let i = 0; i < approvals.length; i += 2) {
    list.push({ approverId: approvals[i]!, at: Number(approvals[i + 1]) });
  }
  out.approvals = list;
  out.ouPath ??= [];
  out.extensions ??= 0;
  return out as unknown as AccessRequest;
}

export interface RequestStoreOptions {
  /** Most open requests (pending, approved, active, revoke-failed) one requester may have; none when unset. */
  maxOpenPerRequester?: number;
  /** How long a request in a final state is kept (seconds); kept forever when unset. */
  retainFinishedSeconds?: number;
}

export class RedisRequestStore implements RequestStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** The one clock of the process: `updatedAt` and the time checks of the scripts. */
    private readonly clock: Clock,
    private readonly options: RequestStoreOptions = {},
  ) {}

  private get requestKeyPrefix(): string {
    return `${this.prefix}:request:`;
  }
  private key(id: string): string {
    return `${this.requestKeyPrefix}${id}`;
  }
  private approvalsKey(id: string): string {
    return `${this.prefix}:request:${id}:approvals`;
  }
  private approvalProofsKey(id: string): string {
    return `${this.prefix}:request:${id}:approval-proofs`;
  }
  private get stateIndexPrefix(): string {
    return `${this.prefix}:requests:state:`;
  }
  private stateIndexKey(state: RequestState): string {
    return `${this.stateIndexPrefix}${state}`;
  }
  private requesterKey(userId: string): string {
    return `${this.prefix}:requests:requester:${userId}`;
  }
  /** Break-glass grants nobody has reviewed yet (by createdAt); pruned lazily once reviewed. */
  private get unreviewedKey(): string {
    return `${this.prefix}:requests:break-glass-unreviewed`;
  }
  private get expiryKey(): string {
    return `${this.prefix}:requests:expiry`;
  }

  /**
   * One script checks the id is free and the requester is under the open-request limit, then
   * writes the hash and its indexes: a (vanishingly unlikely) id collision never overwrites a
   * request, and two submits at the limit never both pass.
   */
  async create(request: AccessRequest): Promise<AccessRequest> {
    const stored = { ...request, version: 1, approvals: [] };
    const max = this.options.maxOpenPerRequester;
    const [status] = (await runScript(
      this.redis,
      'createRequest',
      [
        this.key(request.id),
        this.requesterKey(request.requesterId),
        `${this.stateIndexPrefix}${request.state}`,
        this.unreviewedKey,
      ],
      [
        request.id,
        String(request.createdAt),
        max === undefined ? '' : String(max),
        this.requestKeyPrefix,
        ` ${OPEN_STATES.join(' ')} `,
        request.breakGlass ? '1' : '0',
        ...Object.entries(encodeRequest(stored)).flat(),
      ],
    )) as [string, number?];
    if (status === 'exists') throw new RequestExistsError(request.id);
    if (status === 'limit') throw new OpenRequestLimitError(request.requesterId, max!);
    return stored;
  }

  async openRequestLimit(requesterId: string): Promise<OpenRequestLimit | undefined> {
    const max = this.options.maxOpenPerRequester;
    if (max === undefined) return undefined;
    const ids = await this.redis.zrevrange(this.requesterKey(requesterId), 0, -1);
    if (ids.length < max) return undefined;
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hmget(this.key(id), 'state', 'groupId');
    const fields = ((await pipeline.exec()) ?? []).map(([, f]) => f as [string | null, string | null]);
    // A multi-account request counts once (as create-request.lua counts): listed by its group id.
    const seenGroups = new Set<string>();
    const open: Array<{ id: string; state: RequestState }> = [];
    ids.forEach((id, i) => {
      const [state, groupId] = fields[i] ?? [null, null];
      if (!state || !(OPEN_STATES as readonly string[]).includes(state)) return;
      if (groupId) {
        if (seenGroups.has(groupId)) return;
        seenGroups.add(groupId);
      }
      open.push({ id: groupId ?? id, state: state as RequestState });
    });
    return open.length >= max ? { max, open } : undefined;
  }

  async get(id: string): Promise<AccessRequest | undefined> {
    const result = await this.redis
      .multi()
      .hgetall(this.key(id))
      .zrange(this.approvalsKey(id), '0', '-1', 'WITHSCORES')
      .exec();
    if (!result) return undefined;
    const [[hashErr, hash], [appErr, approvals]] = result as [
      [Error | null, Record<string, string>],
      [Error | null, string[]],
    ];
    if (hashErr) throw hashErr;
    if (appErr) throw appErr;
    return decodeRequest(hash, approvals);
  }

  /** Refuses (throws) a pair the lifecycle table forbids; the script gets the allowed from-states. */
  async transition(id: string, change: TransitionChange): Promise<TransitionOutcome> {
    const forbidden = change.from.filter((from) => !canTransition(from, change.to));
    if (forbidden.length || change.from.length === 0)
      throw new ForbiddenTransitionError(change.from, change.to);
    return this.change(id, change.from, change.to, change);
  }

  /** A change that keeps the state (review, pending extension, message ref, a new end). */
  async annotate(id: string, change: AnnotateChange): Promise<TransitionOutcome> {
    return this.change(id, change.states, '', change);
  }

  private async change(
    id: string,
    from: readonly RequestState[],
    to: RequestState | '',
    change: Omit<TransitionChange, 'from' | 'to'> | AnnotateChange,
  ): Promise<TransitionOutcome> {
    const applied = await this.apply(id, from, to, change);
    if (!applied.ok) return applied;
    const request = await this.get(id);
    if (!request) return { ok: false, reason: 'missing' };
    return { ok: true, request, previous: applied.previous };
  }

  /** Runs the transition script; a success says the state before, without reading the request back. */
  private async apply(
    id: string,
    from: readonly RequestState[],
    to: RequestState | '',
    change: Omit<TransitionChange, 'from' | 'to'> | AnnotateChange,
  ): Promise<Exclude<TransitionOutcome, { ok: true }> | { ok: true; previous: RequestState }> {
    const retain = this.options.retainFinishedSeconds;
    // The indexes the script may move the request between, declared as keys.
    const indexed = [...new Set<RequestState>(to ? [...from, to] : from)];
    const reply = (await runScript(
      this.redis,
      'transitionRequest',
      [
        this.key(id),
        this.expiryKey,
        this.approvalsKey(id),
        this.approvalProofsKey(id),
        ...indexed.map((state) => this.stateIndexKey(state)),
      ],
      [
        ` ${from.join(' ')} `,
        to,
        change.expectedVersion === undefined ? '' : String(change.expectedVersion),
        String(this.clock.now()),
        indexed.join(' '),
        JSON.stringify(encodePatch(change.patch ?? {})),
        change.notExpiredAt === undefined ? '' : String(change.notExpiredAt),
        retain === undefined ? '' : String(retain),
        this.requestKeyPrefix,
        ` ${FINAL_STATES.join(' ')} `,
        'keepVersion' in change && change.keepVersion ? '1' : '',
      ],
    )) as [string, string?, number?, string?];
    const [status, state, version, expiresAt] = reply;
    if (status === 'missing') return { ok: false, reason: 'missing' };
    if (status === 'expired') {
      return {
        ok: false,
        reason: 'expired',
        state: state as RequestState,
        version: Number(version),
        ...(expiresAt ? { expiresAt: Number(expiresAt) } : {}),
      };
    }
    if (status !== 'ok') {
      return {
        ok: false,
        reason: status as 'state' | 'version',
        state: state as RequestState,
        version: Number(version),
      };
    }
    return { ok: true, previous: state as RequestState };
  }

  async approve(id: string, approverId: string, at: number): Promise<ApproveOutcome> {
    const reply = (await runScript(
      this.redis,
      'approveRequest',
      [this.key(id), this.approvalsKey(id), this.stateIndexKey('pending'), this.stateIndexKey('approved')],
      [approverId, String(at)],
    )) as [string, string?, number?, number?];
    const [result, state, , count] = reply;
    if (result === 'missing') return { result: 'missing' };
    if (result === 'expired') {
      return { result, state: state as RequestState, pendingUntil: Number(count) };
    }
    if (result === 'counted' || result === 'approved') {
      const request = await this.get(id);
      if (!request) return { result: 'missing' };
      return { result, request, count: Number(count) };
    }
    return { result: result as 'already' | 'not-pending' | 'self', state: state as RequestState };
  }

  async setMessage(id: string, message: { channel: string; ts: string }): Promise<void> {
    // Whatever the state: an annotation without a version check, never recreating an expired hash.
    // Nobody needs the request back, so it is not read again (one round trip less per request).
    await this.apply(id, REQUEST_STATES, '', {
      states: REQUEST_STATES,
      patch: { message },
      keepVersion: true,
    });
  }

  /** Reads the requests of an index; ids whose hash has expired are dropped from `index`. */
  private async load(ids: string[], index?: string): Promise<AccessRequest[]> {
    const requests = await Promise.all(ids.map((id) => this.get(id)));
    const gone = ids.filter((_, i) => requests[i] === undefined);
    if (index && gone.length) {
      // Only ids whose hash is really gone (not one being created right now).
      const exists = await Promise.all(gone.map((id) => this.redis.exists(this.key(id))));
      const stale = gone.filter((_, i) => exists[i] === 0);
      if (stale.length) await this.redis.zrem(index, ...stale);
    }
    return requests.filter((r): r is AccessRequest => r !== undefined);
  }

  async listByRequester(userId: string, limit = 50): Promise<AccessRequest[]> {
    const index = this.requesterKey(userId);
    return this.load(await this.redis.zrevrange(index, 0, limit - 1), index);
  }

  async listByState(state: RequestState, limit = 100): Promise<AccessRequest[]> {
    const index = `${this.stateIndexPrefix}${state}`;
    return this.load(await this.redis.zrange(index, '0', String(limit - 1)), index);
  }

  /** How many requests are in these states (for the active-grants gauge). */
  async countInStates(states: readonly RequestState[]): Promise<number> {
    const counts = await Promise.all(
      states.map((state) => this.redis.zcard(`${this.stateIndexPrefix}${state}`)),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  /**
   * Break-glass requests without a review, oldest first. The review itself is a versioned
   * transition on the request hash (the source of truth); this index only finds candidates, and
   * ids already reviewed are dropped from it here.
   */
  async listUnreviewedBreakGlass(limit = 100): Promise<AccessRequest[]> {
    const ids = await this.redis.zrange(this.unreviewedKey, '0', String(limit - 1));
    const requests = await this.load(ids);
    const found = new Set(requests.map((r) => r.id));
    const done = [
      ...ids.filter((id) => !found.has(id)),
      ...requests.filter((r) => r.reviewedBy).map((r) => r.id),
    ];
    if (done.length) await this.redis.zrem(this.unreviewedKey, ...done);
    return requests.filter((r) => r.breakGlass && !r.reviewedBy);
  }

  async setApprovalProof(id: string, approverId: string, proof: string): Promise<void> {
    await this.redis.hset(this.approvalProofsKey(id), approverId, proof);
  }

  async approvalProofs(id: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.approvalProofsKey(id));
  }
}
