/**
 * Ports the request lifecycle needs besides the AWS ones in ports.ts: where requests are kept,
 * who people are, how timers are set, and how people are told.
 */
import type { AccessRequest, PendingExtension, RequestState } from './access-request.js';
import type { ApprovalRule, Person } from './approval-policy.js';
import type { Delivery } from './ports.js';

/** Fields a transition may change; `null` clears one. */
export type RequestPatch = {
  [K in keyof AccessRequest]?: AccessRequest[K] | null;
};

export interface TransitionChange {
  /** The states the request may be in for the change to apply. */
  from: readonly RequestState[];
  to: RequestState;
  /** When given, the change applies only if nothing else changed the request since. */
  expectedVersion?: number;
  /**
   * When given (the caller's clock, ms), the change applies only if the stored grant's end
   * (`expiresAt`) is later than this: checked in the same atomic step, so a grant whose end has
   * passed cannot be extended however late the revoke job runs.
   */
  notExpiredAt?: number;
  patch?: RequestPatch;
}

/** A change that keeps the request's state: applies while it is in one of `states`. */
export interface AnnotateChange {
  states: readonly RequestState[];
  expectedVersion?: number;
  notExpiredAt?: number;
  patch: RequestPatch;
  /** Leave the version as it is: a note no click races (where the approver message lives). */
  keepVersion?: boolean;
}

export type TransitionOutcome =
  | { ok: true; request: AccessRequest; previous: RequestState }
  | { ok: false; reason: 'missing' }
  | { ok: false; reason: 'state' | 'version'; state: RequestState; version: number }
  /** `notExpiredAt` was given and the stored grant had already ended (or has no end). */
  | { ok: false; reason: 'expired'; state: RequestState; version: number; expiresAt?: number };

export type ApproveOutcome =
  | { result: 'counted' | 'approved'; request: AccessRequest; count: number }
  | { result: 'already' | 'not-pending' | 'self'; state: RequestState }
  /** Still pending, but its `pendingUntil` has passed (the expire job is late): nothing counted. */
  | { result: 'expired'; state: RequestState; pendingUntil: number }
  | { result: 'missing' };

/** A requester's open requests (pending, approved, active, revoke-failed) at the configured limit. */
export interface OpenRequestLimit {
  max: number;
  open: Array<Pick<AccessRequest, 'id' | 'state'>>;
}

/**
 * The store refused to create a request because its requester already has `max` open ones
 * (checked atomically with the create, so two submits at the limit cannot both pass).
 */
export class OpenRequestLimitError extends Error {
  constructor(
    readonly requesterId: string,
    readonly max: number,
  ) {
    super(
      `you already have ${max} open requests (the limit); cancel one you no longer need with /aws-access cancel <id>, or end a grant with /aws-access revoke <id>, then ask again`,
    );
    this.name = 'OpenRequestLimitError';
  }
}

/**
 * The store refused to create a request because a request with its id already exists (an intake
 * job that runs again creates under the same id: see jobs/intake-worker.ts).
 */
export class RequestExistsError extends Error {
  constructor(readonly requestId: string) {
    super(`request id ${requestId} already exists`);
    this.name = 'RequestExistsError';
  }
}

export interface RequestStore {
  /**
   * Stores a new request. Throws OpenRequestLimitError when its requester is at the configured
   * limit of open requests (counted in the same atomic step as the create), and
   * RequestExistsError when its id is taken (checked in the same step: never overwritten).
   */
  create(request: AccessRequest): Promise<AccessRequest>;
  /** The requester's open requests when they are at (or over) the limit; undefined otherwise. */
  openRequestLimit(requesterId: string): Promise<OpenRequestLimit | undefined>;
  get(id: string): Promise<AccessRequest | undefined>;
  /**
   * Atomic compare-and-set on state (and version): at most one concurrent caller wins. Throws
   * ForbiddenTransitionError for a pair the lifecycle table (model/state.ts) does not allow.
   */
  transition(id: string, change: TransitionChange): Promise<TransitionOutcome>;
  /** Atomic compare-and-set that keeps the state (and bumps the version). */
  annotate(id: string, change: AnnotateChange): Promise<TransitionOutcome>;
  /** Atomically counts one approval; the call that reaches N moves the request to approved. */
  approve(id: string, approverId: string, at: number): Promise<ApproveOutcome>;
  setMessage(id: string, message: { channel: string; ts: string }): Promise<void>;
  /** Newest first. */
  listByRequester(userId: string, limit?: number): Promise<AccessRequest[]>;
  /** Oldest first. */
  listByState(state: RequestState, limit?: number): Promise<AccessRequest[]>;
  /** Break-glass requests nobody has reviewed yet, oldest first. */
  listUnreviewedBreakGlass(limit?: number): Promise<AccessRequest[]>;
  /** Keeps the bot's signed proof that this approver's click was counted (see RecordSigner). */
  setApprovalProof(id: string, approverId: string, proof: string): Promise<void>;
  /** Approver id → proof, for the approvals recorded with one. */
  approvalProofs(id: string): Promise<Record<string, string>>;
}

/**
 * Signs what the bot wrote with a key that is not in Redis (HMAC), so a request or an approval
 * written straight into Redis is recognised as not the bot's and never granted.
 */
export interface RecordSigner {
  sign(content: string): string;
  verify(content: string, signature: string | undefined): boolean;
}

export interface PeopleDirectory {
  person(userId: string): Promise<Person | undefined>;
  /** Members of a Slack user group as of now (never cached: approver rights are checked live). */
  groupMembers(groupId: string): Promise<string[]>;
}

export interface RequestScheduler {
  /** remind-<id>, escalate-<id>, expire-<id>; a duplicate schedule is a no-op. */
  schedulePending(
    requestId: string,
    at: { remindAt: number; escalateAt: number; expireAt: number },
  ): Promise<void>;
  cancelPending(requestId: string): Promise<void>;
  /** revoke-<id> at the end, warn-<id> before it; replaces an earlier schedule (extensions). */
  scheduleGrantEnd(requestId: string, at: { revokeAt: number; warnAt: number }): Promise<void>;
  cancelGrantEnd(requestId: string): Promise<void>;
}

export interface RequestNotifier {
  /** Posts the approver message; returns where it is so it can be updated in place. */
  approvalRequested(
    request: AccessRequest,
    rule: ApprovalRule,
  ): Promise<{ channel: string; ts: string } | undefined>;
  /** Redraws the approver message after any change; `note` says what just happened. */
  requestChanged(request: AccessRequest, note?: string): Promise<void>;
  /** A direct message to the requester. */
  toRequester(request: AccessRequest, text: string): Promise<void>;
  /** The grant's delivery, by DM only: it may hold a console link or credentials. */
  delivered(request: AccessRequest, delivery: Delivery): Promise<void>;
  remind(request: AccessRequest, rule: ApprovalRule): Promise<void>;
  escalate(request: AccessRequest, rule: ApprovalRule): Promise<void>;
  /** Pages the security channel and posts a review request to the rule's approvers. */
  breakGlass(
    request: AccessRequest,
    rule: ApprovalRule,
  ): Promise<{ channel: string; ts: string } | undefined>;
  alertSecurity(text: string, request?: AccessRequest): Promise<void>;
  /** Pages the security channel: granted at once because the requester is on call (`why` names the schedules). */
  onCallApproved(request: AccessRequest, why: string): Promise<void>;
  /** Redraws the break-glass review message (reviewer, time, no buttons) and tells the security channel. */
  breakGlassReviewed(request: AccessRequest): Promise<void>;
  /** DM before the grant ends; offers Extend when `allowance.maxSeconds` > 0. */
  expiryWarning(request: AccessRequest, allowance: ExtensionAllowance): Promise<void>;
  /** Asks the rule's approvers to decide an extension; returns where the message is. */
  extensionRequested(
    request: AccessRequest,
    rule: ApprovalRule,
  ): Promise<{ channel: string; ts: string } | undefined>;
  /** Redraws the extension message after a decision or a counted approval. */
  extensionChanged(request: AccessRequest, extension: PendingExtension, note: string): Promise<void>;
}

/** How much longer a grant may still be made, and whether that needs approvers. */
export interface ExtensionAllowance {
  /** Longest single extension allowed now; 0 when none is. */
  maxSeconds: number;
  needsApproval: boolean;
  /** Why no extension is possible, in the requester's words. */
  reason?: string;
}

/**
 * A notifier post or update that was rate-limited, kept to be made again later. Never a
 * delivery: those may hold credentials, which must not be written to Redis.
 */
export interface DeferredNotification {
  method: 'chat.postMessage' | 'chat.update';
  args: Record<string, unknown>;
}

/** Keeps a rate-limited notification and has it sent again after `retryAfterSeconds`. */
export type DeferNotification = (call: DeferredNotification, retryAfterSeconds: number) => Promise<void>;

/** Sends a deferred notification now; throws RetryLaterError when it is rate-limited again. */
export interface DeferredNotificationSender {
  resend(call: DeferredNotification): Promise<void>;
}
