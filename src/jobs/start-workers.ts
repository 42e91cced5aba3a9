import type { EnvOptions } from '../config/env.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../logger.js';

export interface WorkerContext {
  env: EnvOptions;
  loaded: LoadedConfig;
  logger: Logger;
  metrics: Metrics;
}

export interface Closable {
  close(): Promise<void>;
}

/** Starts the BullMQ workers and schedulers of the worker role. */
export async function startWorkers(_context: WorkerContext): Promise<Closable[]> {
  return [];
}
