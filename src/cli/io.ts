import type { EnvOptions } from '../config/env.js';

/** What a CLI command may touch, so tests can run commands in-process. */
export interface CliIo {
  env: EnvOptions;
  out(line: string): void;
  err(line: string): void;
}
