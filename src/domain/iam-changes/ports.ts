/** What the IAM change-alert consumer needs from outside (SQS, Redis, Slack, the reconcile queue). */
import type { ChangeAlert, IamChangeEvent } from './describe-change.js';

/** One message of the queue; `event` undefined when the body is not an IAM CloudTrail event. */
export interface ChangeMessage {
  receiptHandle: string;
  messageId: string;
  event?: IamChangeEvent;
  /** Why the body was refused (for the log; never the body itself). */
  problem?: string;
}

export interface ChangeQueue {
  /** Long-polls for up to 10 messages, at most `waitSeconds` (default: the queue's long poll). */
  receive(waitSeconds?: number): Promise<ChangeMessage[]>;
  delete(receiptHandle: string): Promise<void>;
}

export interface ChangeAlertStore {
  /** True when the event was already posted (idempotency on the event id). */
  wasPosted(eventId: string): Promise<boolean>;
  /** Keeps an alert until it is posted; a second add of the same event id is a no-op. */
  addPending(alert: ChangeAlert, receivedAt: number): Promise<void>;
  pending(): Promise<Array<{ alert: ChangeAlert; receivedAt: number }>>;
  /** Drops the posted alerts from pending and remembers their ids. */
  markPosted(eventIds: string[]): Promise<void>;
  /** Counts one post in the current minute; false when the minute's budget is spent. */
  takePostSlot(now: number, maxPerMinute: number): Promise<boolean>;
  /** One flusher at a time across replicas. */
  lockFlush(now: number, ttlMs: number): Promise<boolean>;
  unlockFlush(): Promise<void>;
}

export interface ChangeAlertNotifier {
  /** One grouped post for the alerts (several accounts at once); fails when Slack refuses. */
  post(alerts: ChangeAlert[]): Promise<void>;
}

export interface ReconcileTrigger {
  /** Queues a reconcile now; idempotent per event id. */
  reconcileNow(accountId: string, eventId: string): Promise<void>;
}
