/**
 * An in-memory RequestStore for use-case unit tests. It passes the same contract suite as the
 * Redis store (test/integration/store/request-store-contract.spec.ts), so it cannot drift from it:
 * the lifecycle table decides which transitions are allowed, changes are compare-and-set on the
 * version, and the store copies what it hands out.
 */
import type { AccessRequest } from '../../src/domain/access-request.js';
import {
  canTransition,
  ForbiddenTransitionError,
  OPEN_STATES,
  type RequestState,
} from '../../src/domain/model/state.js';
import type { Clock } from '../../src/domain/ports.js';
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
} from '../../src/domain/request-ports.js';

const copy = <T>(value: T): T => structuredClone(value);

export class MemoryRequestStore implements RequestStore {
  private readonly requests = new Map<string, AccessRequest>();
  private readonly proofs = new Map<string, Record<string, string>>();

  constructor(
    private readonly clock: Clock,
    private readonly options: { maxOpenPerRequester?: number } = {},
  ) {}

  async create(request: AccessRequest): Promise<AccessRequest> {
    if (this.requests.has(request.id)) throw new RequestExistsError(request.id);
    const max = this.options.maxOpenPerRequester;
    const open = this.openOf(request.requesterId);
    // As create-request.lua: one multi-account request counts once, and its further accounts pass.
    const inOpenGroup = request.groupId !== undefined && open.some((r) => r.groupId === request.groupId);
    if (max !== undefined && !inOpenGroup && countOpen(open).length >= max) {
      throw new OpenRequestLimitError(request.requesterId, max);
    }
    const stored = { ...copy(request), version: 1, approvals: [] };
    this.requests.set(request.id, stored);
    return copy(stored);
  }

  private openOf(requesterId: string): AccessRequest[] {
    return [...this.requests.values()].filter(
      (r) => r.requesterId === requesterId && OPEN_STATES.includes(r.state),
    );
  }

  async openRequestLimit(requesterId: string): Promise<OpenRequestLimit | undefined> {
    const max = this.options.maxOpenPerRequester;
    const open = countOpen(this.openOf(requesterId));
    if (max === undefined || open.length < max) return undefined;
    return { max, open };
  }

  async get(id: string): Promise<AccessRequest | undefined> {
    const request = this.requests.get(id);
    return request && copy(request);
  }

  async transition(id: string, change: TransitionChange): Promise<TransitionOutcome> {
    if (change.from.length === 0 || change.from.some((from) => !canTransition(from, change.to))) {
      throw new ForbiddenTransitionError(change.from, change.to);
    }
    return this.change(id, change.from, change.to, change);
  }

  async annotate(id: string, change: AnnotateChange): Promise<TransitionOutcome> {
    return this.change(id, change.states, undefined, change);
  }

  private change(
    id: string,
    from: readonly RequestState[],
    to: RequestState | undefined,
    change: { expectedVersion?: number; notExpiredAt?: number; patch?: RequestPatch; keepVersion?: boolean },
  ): TransitionOutcome {
    const request = this.requests.get(id);
    if (!request) return { ok: false, reason: 'missing' };
    const { state, version } = request;
    if (!from.includes(state)) return { ok: false, reason: 'state', state, version };
    if (change.expectedVersion !== undefined && change.expectedVersion !== version) {
      return { ok: false, reason: 'version', state, version };
    }
    if (change.notExpiredAt !== undefined && !((request.expiresAt ?? -Infinity) > change.notExpiredAt)) {
      return {
        ok: false,
        reason: 'expired',
        state,
        version,
        ...(request.expiresAt !== undefined ? { expiresAt: request.expiresAt } : {}),
      };
    }
    const next: Record<string, unknown> = { ...request };
    for (const [key, value] of Object.entries(change.patch ?? {})) {
      if (key === 'approvals' || key === 'state' || key === 'version' || key === 'id') continue;
      if (value === null) delete next[key];
      else if (value !== undefined) next[key] = copy(value);
    }
    next.state = to ?? state;
    next.version = change.keepVersion ? version : version + 1;
    next.updatedAt = this.clock.now();
    this.requests.set(id, next as unknown as AccessRequest);
    return { ok: true, request: copy(next as unknown as AccessRequest), previous: state };
  }

  async approve(id: string, approverId: string, at: number): Promise<ApproveOutcome> {
    const request = this.requests.get(id);
    if (!request) return { result: 'missing' };
    if (request.state !== 'pending') return { result: 'not-pending', state: request.state };
    if (at >= request.pendingUntil) {
      return { result: 'expired', state: request.state, pendingUntil: request.pendingUntil };
    }
    if (request.requesterId === approverId) return { result: 'self', state: request.state };
    if (request.approvals.some((a) => a.approverId === approverId)) {
      return { result: 'already', state: request.state };
    }
    request.approvals.push({ approverId, at });
    request.version += 1;
    request.updatedAt = at;
    const count = request.approvals.length;
    if (count < request.approvalsRequired) return { result: 'counted', request: copy(request), count };
    Object.assign(request, { state: 'approved', decidedBy: approverId, decidedAt: at });
    return { result: 'approved', request: copy(request), count };
  }

  async setMessage(id: string, message: { channel: string; ts: string }): Promise<void> {
    const request = this.requests.get(id);
    if (request) request.message = { ...message };
  }

  async listByRequester(userId: string, limit = 50): Promise<AccessRequest[]> {
    return [...this.requests.values()]
      .filter((r) => r.requesterId === userId)
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, limit)
      .map(copy);
  }

  async listByState(state: RequestState, limit = 100): Promise<AccessRequest[]> {
    return [...this.requests.values()]
      .filter((r) => r.state === state)
      .sort((a, b) => a.createdAt - b.createdAt)
      .slice(0, limit)
      .map(copy);
  }

  async listUnreviewedBreakGlass(limit = 100): Promise<AccessRequest[]> {
    return [...this.requests.values()]
      .filter((r) => r.breakGlass && !r.reviewedBy)
      .sort((a, b) => a.createdAt - b.createdAt)
      .slice(0, limit)
      .map(copy);
  }

  async setApprovalProof(id: string, approverId: string, proof: string): Promise<void> {
    this.proofs.set(id, { ...this.proofs.get(id), [approverId]: proof });
  }

  async approvalProofs(id: string): Promise<Record<string, string>> {
    return { ...this.proofs.get(id) };
  }
}

/** Open requests as the limit counts them: a multi-account request once, under its group id. */
function countOpen(open: AccessRequest[]): Array<Pick<AccessRequest, 'id' | 'state'>> {
  const groups = new Set<string>();
  const out: Array<Pick<AccessRequest, 'id' | 'state'>> = [];
  for (const r of open) {
    if (r.groupId) {
      if (groups.has(r.groupId)) continue;
      groups.add(r.groupId);
    }
    out.push({ id: r.groupId ?? r.id, state: r.state });
  }
  return out;
}
