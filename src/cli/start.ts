import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import { DEFAULT_SHUTDOWN, startService, type ServiceRole, type ShutdownOptions } from '../main.js';
import type { CliIo } from './io.js';

export const START_HELP = `Usage: aws-access-bot start [--role web|worker|all] [--shutdown-timeout S] [--drain S]

Runs the service. web: Slack requests and the HTTP endpoints; worker: BullMQ jobs
(revocation, reconcile, hygiene, reminders); all: both (default).

On SIGTERM or SIGINT: /readyz answers 503 at once, Slack requests in progress and the work
after their ack finish, workers finish their jobs, then Redis is quit. All of it within
--shutdown-timeout; keep it below the pod's terminationGracePeriodSeconds.

Options:
  --role ROLE               web, worker or all (default: all)
  --shutdown-timeout S      seconds the whole shutdown may take (default: 25); past it, Slack
                            work still running is cut off and running jobs go back to the queue
  --drain S                 HTTP mode: seconds to keep serving with /readyz at 503 before the
                            listener closes, while load balancers stop sending (default: 0)
  -h, --help                show this help`;

const ROLES: ServiceRole[] = ['web', 'worker', 'all'];

const GUARDS = Symbol.for('aws-access-bot.process-guards');

/**
 * Process-level last resort for the running service: an unhandled rejection or uncaught
 * exception is logged (redacted, with the error serialized) and the process keeps serving
 * instead of exiting; one bad request must not take the web role down for everyone. Installed by
 * the start command only, once per process however often it is called.
 */
export function installProcessGuards(logger: Logger, proc: NodeJS.Process = process): void {
  const marked = proc as NodeJS.Process & { [GUARDS]?: boolean };
  if (marked[GUARDS]) return;
  marked[GUARDS] = true;
  proc.on('unhandledRejection', (reason) => {
    logger.error({ err: reason }, 'unhandled promise rejection; still serving');
  });
  proc.on('uncaughtException', (error, origin) => {
    logger.error({ err: error, origin }, 'uncaught exception; still serving');
  });
}

export async function startCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      role: { type: 'string', default: 'all' },
      'shutdown-timeout': { type: 'string' },
      drain: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    io.out(START_HELP);
    return 0;
  }
  const role = values.role as ServiceRole;
  if (!ROLES.includes(role))
    throw new UsageError(`--role must be one of ${ROLES.join(', ')}, not "${values.role}"`);
  const shutdown = shutdownOptions(values['shutdown-timeout'], values.drain);
  const logger = createLogger({ level: io.env.logLevel });
  installProcessGuards(logger);
  const service = await startService({ env: io.env, role, logger, shutdown });
  return new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'signal received');
      // Backstop: stop() is bounded by the timeout; should anything still hang, exit anyway
      // rather than be killed by the kubelet without a word.
      setTimeout(() => {
        logger.error({ timeoutMs: shutdown.timeoutMs }, 'shutdown did not finish in time; exiting');
        resolve(1);
      }, shutdown.timeoutMs + 1_000).unref();
      service.stop().then(
        () => resolve(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
}

function seconds(flag: string, value: string | undefined, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0) {
    throw new UsageError(`--${flag} must be a number of seconds (0 or more), not "${value}"`);
  }
  return Math.round(parsed * 1000);
}

export function shutdownOptions(timeout: string | undefined, drain: string | undefined): ShutdownOptions {
  const options = {
    timeoutMs: seconds('shutdown-timeout', timeout, DEFAULT_SHUTDOWN.timeoutMs),
    drainMs: seconds('drain', drain, DEFAULT_SHUTDOWN.drainMs),
  };
  if (options.timeoutMs <= 0) throw new UsageError('--shutdown-timeout must be more than 0 seconds');
  if (options.drainMs >= options.timeoutMs) {
    throw new UsageError('--drain must be shorter than --shutdown-timeout (the drain is part of it)');
  }
  return options;
}
