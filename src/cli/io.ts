import type { EnvOptions } from '../config/env.js';
import type { Clock } from '../domain/ports.js';

/** What a CLI command may touch, so tests can run commands in-process. */
export interface CliIo {
  env: EnvOptions;
  clock: Clock;
  out(line: string): void;
  err(line: string): void;
}
