/**
 * One service process of the chaos run: the real `startService` (what `aws-access-bot start`
 * runs, with the same process guards), configured from the environment like production
 * (readEnvOptions: SLACK_*, REDIS_URL, AWS_ENDPOINT_URL, AWS_ACCESS_CONFIG, AWS_ACCESS_HMAC_KEY,
 * PORT, LOG_LEVEL), plus two chaos knobs:
 *
 * - CHAOS_ROLE: web | worker | all
 * - CHAOS_CLOCK_OFFSET_MS: this process's clock runs that far ahead (or behind) of the machine's,
 *   the skew between hosts the run injects. The HTTP gate keeps real time for Slack signatures
 *   (startService gives it the system clock), as it would on a host whose clock is off.
 *
 * Started with an IPC channel by the harness: when the harness goes away the process exits.
 */
import { installProcessGuards } from '../../src/cli/start.js';
import { systemClock } from '../../src/clock.js';
import { readEnvOptions } from '../../src/config/env.js';
import type { Clock } from '../../src/domain/ports.js';
import { createLogger } from '../../src/logger.js';
import { startService, type RunningService, type ServiceRole } from '../../src/main.js';

const role = (process.env.CHAOS_ROLE ?? 'all') as ServiceRole;
const offset = Number(process.env.CHAOS_CLOCK_OFFSET_MS ?? '0');
const clock: Clock = { now: () => systemClock.now() + offset };
const env = readEnvOptions(process.env);
const logger = createLogger({ level: env.logLevel }).child({ chaosRole: role, clockOffsetMs: offset });
installProcessGuards(logger);

let service: RunningService | undefined;
let exiting = false;
const exit = (code: number) => {
  if (exiting) return;
  exiting = true;
  const timer = setTimeout(() => process.exit(code), 10_000);
  timer.unref();
  void (service?.stop() ?? Promise.resolve()).finally(() => process.exit(code));
};

process.once('SIGTERM', () => exit(0));
process.once('SIGINT', () => exit(0));
// The harness went away (even by SIGKILL): never linger.
process.on('disconnect', () => exit(0));

startService({ env, role, logger, clock, host: '127.0.0.1' }).then(
  (running) => {
    service = running;
    process.send?.({ type: 'ready', port: running.port });
  },
  (error: unknown) => {
    logger.error({ err: error }, 'chaos service failed to start');
    process.send?.({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  },
);
