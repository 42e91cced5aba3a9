/**
 * One line of the audit trail: who did what to which request, the state before and after, and
 * why. Refused actions are events too: a denied click is as interesting as an accepted one.
 */
import type { RequestState } from './access-request.js';

export type AuditOutcome = 'ok' | 'refused' | 'failed';

export interface AuditEvent {
  /** ISO 8601 time. */
  at: string;
  /** Slack user id, or `system` for jobs. */
  actor: string;
  action: string;
  outcome: AuditOutcome;
  requestId?: string;
  stateBefore?: RequestState;
  stateAfter?: RequestState;
  reason?: string;
  details?: Record<string, string | number | boolean>;
}

export interface AuditLog {
  record(event: AuditEvent): Promise<void>;
}

/** The canonical text of an event, hashed into the chain; key order is fixed. */
export function canonicalEvent(event: AuditEvent): string {
  const ordered: Record<string, unknown> = {};
  for (const key of Object.keys(event).sort()) {
    const value = (event as unknown as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (key === 'details' && value && typeof value === 'object') {
      const details: Record<string, unknown> = {};
      for (const k of Object.keys(value).sort()) details[k] = (value as Record<string, unknown>)[k];
      ordered[key] = details;
    } else {
      ordered[key] = value;
    }
  }
  return JSON.stringify(ordered);
}
