/**
 * The IAM change-alert consumer's two steps, each safe to run on many replicas at once:
 *
 * - `handleBatch`: one long poll; each message is decided, its alert kept in the store
 *   (idempotent on the event id) and its reconcile queued, and only then deleted. A malformed
 *   message is logged and deleted; a message whose handling fails is left for SQS to hand out
 *   again after its visibility timeout, and the rest of the batch goes on.
 * - `flushAlerts`: posts what is pending as grouped messages, once the oldest alert has waited
 *   the group window (so a burst becomes one post) and while the per-minute budget lasts.
 *   Posting before forgetting: a post that fails leaves the alerts pending for the next flush.
 */
import type { HygieneLog } from '../hygiene/ports.js';
import type { Clock } from '../ports.js';
import { describeChange, type ChangeAlertSettings } from './describe-change.js';
import type { ChangeAlertNotifier, ChangeAlertStore, ChangeQueue, ReconcileTrigger } from './ports.js';

export interface ChangeConsumerSettings extends ChangeAlertSettings {
  groupWindowMs: number;
  maxPostsPerMinute: number;
  /** Alerts per post; more wait for the next post. */
  maxAlertsPerPost: number;
}

export interface ChangeConsumerDeps {
  queue: ChangeQueue;
  store: ChangeAlertStore;
  notifier: ChangeAlertNotifier;
  reconcile: ReconcileTrigger;
  settings: ChangeConsumerSettings;
  clock: Clock;
  log: HygieneLog;
}

export interface BatchResult {
  received: number;
  alerts: number;
  dropped: number;
  reconciles: number;
  failed: number;
}

/**
 * How long the next long poll may wait: until the oldest pending alert is due, so a lone alert
 * is posted when its group window ends, not when the next message or the 20-second poll does.
 */
export async function pollSeconds(deps: ChangeConsumerDeps, longPoll = 20): Promise<number> {
  const pending = await deps.store.pending();
  if (pending.length === 0) return longPoll;
  const oldest = Math.min(...pending.map((p) => p.receivedAt));
  const dueInMs = oldest + deps.settings.groupWindowMs - deps.clock.now();
  return Math.max(0, Math.min(longPoll, Math.ceil(dueInMs / 1000)));
}

export async function handleBatch(deps: ChangeConsumerDeps, waitSeconds?: number): Promise<BatchResult> {
  const messages = await deps.queue.receive(waitSeconds);
  const result: BatchResult = { received: messages.length, alerts: 0, dropped: 0, reconciles: 0, failed: 0 };
  for (const message of messages) {
    try {
      if (!message.event) {
        deps.log.warn(
          { messageId: message.messageId, problem: message.problem },
          'IAM change message is not a CloudTrail IAM event: dropped',
        );
        await deps.queue.delete(message.receiptHandle);
        result.dropped += 1;
        continue;
      }
      const decision = describeChange(message.event, deps.settings);
      if (decision.reconcileAccountId) {
        await deps.reconcile.reconcileNow(decision.reconcileAccountId, message.event.id);
        result.reconciles += 1;
      }
      if (decision.alert && !(await deps.store.wasPosted(decision.alert.eventId))) {
        await deps.store.addPending(decision.alert, deps.clock.now());
        result.alerts += 1;
      }
      await deps.queue.delete(message.receiptHandle);
    } catch (error) {
      result.failed += 1;
      deps.log.error(
        { err: error, messageId: message.messageId, eventId: message.event?.id },
        'IAM change message not handled; SQS hands it out again',
      );
    }
  }
  return result;
}

const FLUSH_LOCK_MS = 30_000;

/** Posts due alerts; returns how many posts were made. */
export async function flushAlerts(deps: ChangeConsumerDeps): Promise<number> {
  const now = deps.clock.now();
  if (!(await deps.store.lockFlush(now, FLUSH_LOCK_MS))) return 0;
  let posts = 0;
  try {
    let pending = (await deps.store.pending()).sort(
      (a, b) => a.receivedAt - b.receivedAt || a.alert.at.localeCompare(b.alert.at),
    );
    while (pending.length > 0) {
      const due =
        now - pending[0]!.receivedAt >= deps.settings.groupWindowMs ||
        pending.length >= deps.settings.maxAlertsPerPost;
      if (!due) break;
      if (!(await deps.store.takePostSlot(now, deps.settings.maxPostsPerMinute))) {
        deps.log.warn({ pending: pending.length }, 'IAM change alerts rate-limited: the rest wait a minute');
        break;
      }
      const batch = pending.slice(0, deps.settings.maxAlertsPerPost);
      await deps.notifier.post(batch.map((p) => p.alert));
      await deps.store.markPosted(batch.map((p) => p.alert.eventId));
      posts += 1;
      pending = pending.slice(batch.length);
    }
  } finally {
    await deps.store.unlockFlush();
  }
  return posts;
}
