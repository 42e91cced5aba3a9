import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.js';
import { ConfigError } from '../errors.js';
import type { CliIo } from './io.js';

export const VALIDATE_HELP = `Usage: aws-access-bot validate [--config FILE]

Checks the configuration file and the boundary templates. Prints every problem as
"file: path.to.field: message" and exits 1 if there is any.

Options:
  --config FILE   config file (default: $AWS_ACCESS_CONFIG or config/aws-access.yaml)
  -h, --help      show this help`;

export async function validateCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    io.out(VALIDATE_HELP);
    return 0;
  }
  const file = values.config ?? io.env.configPath;
  try {
    const loaded = await loadConfig(file);
    io.out(`${file}: ok (${loaded.config.approval.rules.length} approval rules)`);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(error.message);
      return 1;
    }
    throw error;
  }
}
