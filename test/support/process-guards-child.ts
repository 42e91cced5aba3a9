/**
 * A child process for the process-guard test (test/e2e/request-security.spec.ts): with
 * INSTALL_GUARDS=1 it installs the start command's process handlers (twice: idempotent), then
 * rejects a promise nobody handles and throws from a timer. It prints ALIVE and exits 0 if it is
 * still running afterwards; without the handlers Node ends it with exit code 1.
 */
import { installProcessGuards } from '../../src/cli/start.js';
import { createLogger } from '../../src/logger.js';

const logger = createLogger({ level: 'info' });
if (process.env.INSTALL_GUARDS === '1') {
  installProcessGuards(logger);
  installProcessGuards(logger);
  process.stdout.write(`LISTENERS ${process.listenerCount('unhandledRejection')}\n`);
}
void Promise.reject(new Error('rejected with xoxb-1111-2222-childtoken'));
setTimeout(() => {
  throw new Error('thrown from a timer');
}, 20);
setTimeout(() => {
  process.stdout.write('ALIVE\n');
  process.exit(0);
}, 300);
