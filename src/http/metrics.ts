import type { AuditEvent } from '../domain/audit-event.js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per running service (tests start several in one process), holding the
 * process defaults and the application's own series.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const slackRequests = new Counter({
    name: 'aws_access_slack_requests_total',
    help: 'Slack requests received on /slack/events by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const requestTransitions = new Counter({
    name: 'aws_access_request_transitions_total',
    help: 'Access request state transitions',
    labelNames: ['to'] as const,
    registers: [registry],
  });
  // Read from the store at scrape time, so every replica reports the same truth.
  let activeGrantsSource: (() => Promise<number>) | undefined;
  const activeGrants = new Gauge({
    name: 'aws_access_active_grants',
    help: 'Grants currently active (active or revoke-failed requests)',
    registers: [registry],
    async collect() {
      if (!activeGrantsSource) return;
      try {
        this.set(await activeGrantsSource());
      } catch {
        // Redis unreachable: keep the last value; /readyz reports the outage.
      }
    },
  });
  const revocations = new Counter({
    name: 'aws_access_revocations_total',
    help: 'Revocations by result (failed: the last attempt failed and the request is revoke-failed)',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const revokeLateness = new Histogram({
    name: 'aws_access_revoke_lateness_seconds',
    help: 'Seconds between a grant end and its revocation',
    buckets: [0.5, 1, 2, 5, 10, 30, 60, 300, 900],
    registers: [registry],
  });
  const revocationAttempts = new Counter({
    name: 'aws_access_revocation_attempts_total',
    help: 'Engine revocations started by the worker role, answered with throttling, and handed back to the job after the last throttle',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const jobFailures = new Counter({
    name: 'aws_access_job_failures_total',
    help: 'Failed job attempts per queue',
    labelNames: ['queue'] as const,
    registers: [registry],
  });
  const awsCalls = new Counter({
    name: 'aws_access_aws_calls_total',
    help: 'AWS API calls by service and operation',
    labelNames: ['service', 'operation'] as const,
    registers: [registry],
  });
  const awsRetries = new Counter({
    name: 'aws_access_aws_retries_total',
    help: 'AWS API attempts beyond the first (SDK retries after throttling or 5xx), by service and operation',
    labelNames: ['service', 'operation'] as const,
    registers: [registry],
  });
  return {
    registry,
    slackRequests,
    requestTransitions,
    activeGrants,
    revocations,
    revokeLateness,
    revocationAttempts,
    jobFailures,
    awsCalls,
    awsRetries,
    /** Where the active-grants gauge reads its value at each scrape. */
    countActiveGrantsWith(source: () => Promise<number>): void {
      activeGrantsSource = source;
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Every audited state change also counts in `aws_access_request_transitions_total{to}`. */
export function countTransitions(
  metrics: Metrics,
  forward: (id: string, event: AuditEvent) => Promise<void>,
): (id: string, event: AuditEvent) => Promise<void> {
  return async (id, event) => {
    if (event.outcome === 'ok' && event.stateAfter && event.stateAfter !== event.stateBefore) {
      metrics.requestTransitions.inc({ to: event.stateAfter });
    }
    await forward(id, event);
  };
}
