import type { Clock } from '../ports.js';
import type { HygieneAudit, HygieneAuditEvent, HygieneLog, HygieneStore } from './ports.js';

/**
 * Every hygiene action is written to the hygiene audit stream, logged, and forwarded (to the
 * hash-chained audit log), so each change has one record everywhere.
 */
export function hygieneAuditor(
  store: Pick<HygieneStore, 'appendAudit'>,
  log: HygieneLog,
  clock: Clock,
  forward?: (event: HygieneAuditEvent) => Promise<void>,
): HygieneAudit {
  return async (partial) => {
    const event: HygieneAuditEvent = { ...partial, at: new Date(clock.now()).toISOString() };
    await store.appendAudit(event);
    log.info({ audit: event }, `audit ${event.type}`);
    await forward?.(event);
  };
}
