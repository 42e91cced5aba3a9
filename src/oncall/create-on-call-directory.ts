/** The on-call directory from the config's `onCall` section and the tokens in the environment. */
import { onCallTokens } from '../config/on-call-checks.js';
import type { EnvOptions } from '../config/env.js';
import type { AppConfig } from '../config/schema.js';
import { scheduleLabel } from '../domain/on-call.js';
import type { Clock } from '../domain/ports.js';
import type { Logger } from '../logger.js';
import { CachedOnCallDirectory } from './on-call-directory.js';

/** Undefined when no rule names a schedule. */
export function createOnCallDirectory(
  config: AppConfig,
  env: EnvOptions,
  clock: Clock,
  logger: Logger,
): CachedOnCallDirectory | undefined {
  const used = config.approval.rules.some(
    (r) => (r.approvers.onCall?.length ?? 0) > 0 || r.onCallAutoApprove !== undefined,
  );
  if (!used) return undefined;
  const { onCall } = config;
  return new CachedOnCallDirectory({
    apiUrls: { pagerduty: onCall.pagerduty.apiUrl, opsgenie: onCall.opsgenie.apiUrl },
    tokens: onCallTokens(env),
    cacheForSeconds: onCall.cacheFor,
    call: { timeoutMs: onCall.timeoutMs, attempts: onCall.attempts },
    clock,
    onFailure: (schedule, reason) =>
      logger.warn(
        { provider: schedule.provider, schedule: schedule.schedule, reason },
        `on-call look-up of ${scheduleLabel(schedule)} failed; nobody counts as on call on it`,
      ),
  });
}
