#!/usr/bin/env node
import { runCli } from './cli/run-cli.js';

// Exit explicitly once a command is done: a Slack or Redis client still retrying in the
// background must not keep a stopped service (or a finished CLI command) alive.
runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`aws-access-bot: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
