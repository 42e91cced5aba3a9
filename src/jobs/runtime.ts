/**
 * What the worker role starts, and who owns its Redis connections. A worker or scheduler never
 * creates or quits a connection: the worker role opens one blocking connection per group
 * (`onWorkerConnection`), hands it to what it starts, and quits it only after those have closed.
 * The producer connection (queues on the Slack path) belongs to main.ts.
 *
 * Shutdown is bounded: `close()` lets active jobs finish (BullMQ's `worker.close()` waits for
 * them and takes no new ones). When the deadline comes first, `release()` hands the jobs still
 * running back to the queue at once (BullMQ's `close(true)` would leave them `active` and locked
 * until the lock expires and another worker's stalled check finds them, up to a minute later).
 */
import type { Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { createRedis, type RedisTarget } from '../store/redis-connection.js';

/** What every worker, scheduler and queue the worker role starts gives back: a way to stop it. */
export interface Closable {
  close(): Promise<void>;
  /**
   * Only past the shutdown deadline, while `close()` is still waiting for jobs: moves the jobs
   * this process still runs back to `wait` (lock removed, so any worker takes them now) and drops
   * the connection. Returns the ids released. What the abandoned handlers do afterwards fails on
   * the lost lock; every handler is idempotent, so the job running again elsewhere is safe.
   */
  release?(): Promise<string[]>;
}

/** Resolves true when `promise` settles within `ms`, false when the time runs out first. */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Remembers the jobs a BullMQ worker is running (job and lock token), so they can be released at
 * the shutdown deadline. Attach right after the worker is created, before its first job.
 */
export function trackActiveJobs(worker: Worker): { release(): Promise<string[]> } {
  const running = new Map<string, Job>();
  worker.on('active', (job: Job) => {
    if (job.id) running.set(job.id, job);
  });
  const done = (job?: Job) => {
    if (job?.id && running.get(job.id) === job) running.delete(job.id);
  };
  worker.on('completed', done);
  worker.on('failed', done);
  return {
    release: async () => {
      const released: string[] = [];
      await Promise.all(
        [...running.values()].map(async (job) => {
          try {
            // Removes our lock (token-checked) and moves the job from active to wait: a job that
            // finished meanwhile, or is not ours any more, is refused and left alone.
            await job.moveToWait(job.token);
            released.push(job.id!);
          } catch {
            // finished, failed or moved on its own in the meantime
          }
        }),
      );
      running.clear();
      return released;
    },
  };
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
    release: async () => {
      const released = (await started.release?.()) ?? [];
      connection.disconnect();
      return released;
    },
  };
}

/** Closes several in order (the first started is the first closed); releases all at once. */
export function closeAll(parts: Array<Closable | undefined>): Closable {
  return {
    close: async () => {
      for (const part of parts) await part?.close();
    },
    release: async () => (await Promise.all(parts.map((part) => part?.release?.() ?? []))).flat(),
  };
}

/** A Closable for a started group whose BullMQ workers are known: closing it can be cut short. */
export function releasable(started: Closable, workers: Array<Worker | undefined>): Closable {
  const tracked = workers.flatMap((worker) => (worker ? [trackActiveJobs(worker)] : []));
  return {
    close: () => started.close(),
    release: async () => (await Promise.all(tracked.map((t) => t.release()))).flat(),
  };
}
