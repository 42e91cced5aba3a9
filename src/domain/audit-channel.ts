/**
 * The audit channel: where the security team reads every audit event, posted in batches.
 * The audit-batch job decides what to post and when; an adapter decides how it looks.
 */
import type { AuditEvent } from './audit-event.js';

export interface AuditChannelEntry {
  /** The audit stream entry id. */
  id: string;
  event: AuditEvent;
}

export interface AuditChannel {
  /**
   * Posts these entries as one message. Throws RetryLaterError when the channel asks to be
   * called again later; nothing was posted then.
   */
  post(entries: AuditChannelEntry[]): Promise<void>;
}
