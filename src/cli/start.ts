import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import { startService, type ServiceRole } from '../main.js';
import type { CliIo } from './io.js';

export const START_HELP = `Usage: aws-access-bot start [--role web|worker|all]

Runs the service. web: Slack requests and the HTTP endpoints; worker: BullMQ jobs
(revocation, reconcile, hygiene, reminders); all: both (default).

Options:
  --role ROLE   web, worker or all (default: all)
  -h, --help    show this help`;

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
    options: { role: { type: 'string', default: 'all' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    io.out(START_HELP);
    return 0;
  }
  const role = values.role as ServiceRole;
  if (!ROLES.includes(role))
    throw new UsageError(`--role must be one of ${ROLES.join(', ')}, not "${values.role}"`);
  const logger = createLogger({ level: io.env.logLevel });
  installProcessGuards(logger);
  const service = await startService({ env: io.env, role, logger });
  await new Promise<void>((resolve) => {
    const shutdown = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'signal received');
      service.stop().then(resolve, (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        resolve();
      });
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  });
  return 0;
}
