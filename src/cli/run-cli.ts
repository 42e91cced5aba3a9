import { systemClock } from '../clock.js';
import { readEnvOptions } from '../config/env.js';
import { AppError, ErrorCode, UsageError } from '../errors.js';
import { auditCommand } from './audit.js';
import { hygieneCommand } from './hygiene.js';
import type { CliIo } from './io.js';
import { postureCommand } from './posture.js';
import { startCommand } from './start.js';
import { validateCommand } from './validate.js';

export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;

type Command = (args: string[], io: CliIo) => Promise<number>;

const COMMANDS: Record<string, { run: Command; summary: string }> = {
  start: { run: startCommand, summary: 'run the service (--role web|worker|all)' },
  validate: { run: validateCommand, summary: 'check the config and templates' },
  audit: { run: auditCommand, summary: 'verify or export the audit log (verify | export --since TIME)' },
  hygiene: { run: hygieneCommand, summary: "sweep one account's credentials (--account ID [--dry-run])" },
  posture: { run: postureCommand, summary: "review one account's IAM posture (--account ID [--json])" },
};

export function mainHelp(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `Usage: aws-access-bot <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "aws-access-bot <command> --help" for a command's options.\nExit codes: 0 ok, 1 invalid config or templates, 2 usage, 3 findings (posture).`;
}

export function defaultIo(): CliIo {
  return {
    env: readEnvOptions(),
    clock: systemClock,
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
}

/** Runs one CLI invocation and returns its exit code. */
export async function runCli(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    (name ? io.out : io.err)(mainHelp());
    return name ? EXIT_OK : EXIT_USAGE;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`unknown command "${name}"\n\n${mainHelp()}`);
    return EXIT_USAGE;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`${(error as Error).message}\nRun "aws-access-bot ${name} --help" for usage.`);
      return EXIT_USAGE;
    }
    if (error instanceof AppError && error.code === ErrorCode.ConfigInvalid) {
      io.err(error.message);
      return EXIT_INVALID;
    }
    throw error;
  }
}
