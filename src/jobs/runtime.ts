/**
 * What the worker role starts, and who owns its Redis connections. A worker or scheduler never
 * creates or quits a connection: the worker role opens one blocking connection per group
 * (`onWorkerConnection`), hands it to what it starts, and quits it only after those have closed.
 * The producer connection (queues on the Slack path) belongs to main.ts.
 */
import type { Redis } from 'ioredis';
import { createRedis, type RedisTarget } from '../store/redis-connection.js';

/** What every worker, scheduler and queue the worker role starts gives back: a way to stop it. */
export interface Closable {
  close(): Promise<void>;
}

/**
 * Opens a worker connection (blocking commands wait out a Redis blip: retries forever), starts
 * `start` on it, and returns a Closable that closes what was started and then quits the connection.
 */
export async function onWorkerConnection(
  target: RedisTarget | string,
  start: (connection: Redis) => Closable | Promise<Closable>,
): Promise<Closable> {
  const connection = createRedis(target, 'worker');
  let started: Closable;
  try {
    started = await start(connection);
  } catch (error) {
    connection.disconnect();
    throw error;
  }
  return {
    close: async () => {
      await started.close();
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}

/** Closes several in order (the first started is the first closed). */
export function closeAll(parts: Array<Closable | undefined>): Closable {
  return {
    close: async () => {
      for (const part of parts) await part?.close();
    },
  };
}
