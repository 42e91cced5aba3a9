import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { createLogger } from '../logger.js';
import { startService, type ServiceRole } from '../main.js';
import type { CliIo } from './io.js';

export const START_HELP = `Usage: aws-access-bot start [--role web|worker|all]

Runs the service. web: Slack requests and the HTTP endpoints; worker: BullMQ jobs
(revocation, reconcile, hygiene, reminders); all: both (default).

Options:
  --role ROLE   web, worker or all (default: all)
  -h, --help    show this help`;

const ROLES: ServiceRole[] = ['web', 'worker', 'all'];

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
