import type { AuditEvent } from '../domain/audit-event.js';
import type { HygieneAuditEvent } from '../domain/hygiene/ports.js';

/** Hygiene actions join the one hash-chained audit log, so every change has one record. */
export function hygieneAuditToAuditEvent(event: HygieneAuditEvent): AuditEvent {
  const details: Record<string, string> = {};
  if (event.accountId) details.accountId = event.accountId;
  if (event.userName) details.userName = event.userName;
  if (event.findingId) details.findingId = event.findingId;
  if (event.accessKeyIdSuffix) details.accessKeyIdSuffix = event.accessKeyIdSuffix;
  return {
    at: event.at,
    actor: event.actor,
    action: event.type,
    outcome: event.type.endsWith('-failed') ? 'failed' : 'ok',
    reason: event.detail,
    details,
  };
}
