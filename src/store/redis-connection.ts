/**
 * The one place that opens Redis connections: a single Redis (`REDIS_URL`), a primary found
 * through Redis Sentinel (`redis.sentinel`), or a Redis Cluster (`redis.cluster`). Everything
 * else (stores, BullMQ queues and workers, the CLI) takes what this returns.
 *
 * Credentials and TLS always come from `REDIS_URL`: its user and password authenticate to every
 * data node (the cluster's nodes, Sentinel's primary), `rediss:` turns on TLS, and its path picks
 * the database (single Redis and Sentinel only; a cluster has database 0 only). Its host and port
 * are used only without `cluster` and `sentinel`. Sentinels themselves are asked without a
 * password unless `REDIS_SENTINEL_PASSWORD` is set.
 *
 * A Cluster is handed out typed as `Redis`: ioredis' `Cluster` has the same command methods
 * (including `defineCommand`, `multi`, `pipeline`, `quit`), and the bot's keys all carry the
 * hash tag of `redis.prefix` (validate refuses a cluster without one), so every multi-key
 * command, MULTI and Lua script stays within one slot. BullMQ recognises a Cluster itself.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

export interface HostPort {
  host: string;
  port: number;
}

/** Where Redis is: the URL alone, or the URL's credentials plus a cluster or a Sentinel set. */
export interface RedisTarget {
  url: string;
  cluster?: { nodes: HostPort[] };
  sentinel?: { sentinels: HostPort[]; name: string };
  /** Password for the Sentinels (`REDIS_SENTINEL_PASSWORD`); they are asked without one when unset. */
  sentinelPassword?: string;
}

/** The target of the environment's `REDIS_URL` and the config's `redis` section. */
export function redisTarget(
  env: { redisUrl: string; redisSentinelPassword?: string },
  redis: { cluster?: RedisTarget['cluster']; sentinel?: RedisTarget['sentinel'] },
): RedisTarget {
  return {
    url: env.redisUrl,
    ...(redis.cluster ? { cluster: redis.cluster } : {}),
    ...(redis.sentinel ? { sentinel: redis.sentinel } : {}),
    ...(env.redisSentinelPassword ? { sentinelPassword: env.redisSentinelPassword } : {}),
  };
}

export type ConnectionKind = 'client' | 'worker';

/**
 * `worker` connections block (BullMQ workers) and must retry forever; `client` connections
 * serve Slack requests and fail fast so a Redis outage becomes an error, not a hang.
 */
export function connectionOptions(kind: ConnectionKind, extra: RedisOptions = {}): RedisOptions {
  return kind === 'worker'
    ? { maxRetriesPerRequest: null, enableReadyCheck: true, ...extra }
    : { maxRetriesPerRequest: 2, enableOfflineQueue: true, connectTimeout: 5000, ...extra };
}

/** User, password, TLS and database of a redis:// or rediss:// URL. */
export function credentialsOf(url: string): Pick<RedisOptions, 'username' | 'password' | 'tls' | 'db'> {
  const parsed = new URL(url);
  const out: Pick<RedisOptions, 'username' | 'password' | 'tls' | 'db'> = {};
  if (parsed.username) out.username = decodeURIComponent(parsed.username);
  if (parsed.password) out.password = decodeURIComponent(parsed.password);
  if (parsed.protocol === 'rediss:') out.tls = {};
  const db = Number(parsed.pathname.replace(/^\//, '') || '0');
  if (Number.isInteger(db) && db > 0) out.db = db;
  return out;
}

/**
 * After a failover a client may still talk to the old primary (now a replica) for a moment:
 * reconnect (through Sentinel, to the new primary) and resend the command.
 */
function reconnectOnReadonly(error: Error): 2 | false {
  return error.message.startsWith('READONLY') ? 2 : false;
}

export function createRedis(
  target: RedisTarget | string,
  kind: ConnectionKind = 'client',
  extra: RedisOptions = {},
): Redis {
  const where: RedisTarget = typeof target === 'string' ? { url: target } : target;
  const options = connectionOptions(kind, extra);
  if (where.cluster) return createCluster(where, options);
  if (where.sentinel) {
    return new Redis({
      ...credentialsOf(where.url),
      sentinels: where.sentinel.sentinels,
      name: where.sentinel.name,
      ...(where.sentinelPassword ? { sentinelPassword: where.sentinelPassword } : {}),
      // Subscribes to the Sentinels' +switch-master: a failover moves the connection at once.
      failoverDetector: true,
      reconnectOnError: reconnectOnReadonly,
      ...options,
    });
  }
  return new Redis(where.url, options);
}

function createCluster(where: RedisTarget, options: RedisOptions): Redis {
  const { enableOfflineQueue, enableReadyCheck, retryStrategy, ...perNode } = options;
  const { db: _db, ...credentials } = credentialsOf(where.url);
  const clusterOptions: ClusterOptions = {
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(enableReadyCheck === undefined ? {} : { enableReadyCheck }),
    ...(retryStrategy ? { clusterRetryStrategy: retryStrategy } : {}),
    // BullMQ and the stores read `maxRetriesPerRequest` here (a worker connection needs null).
    redisOptions: { ...credentials, ...perNode },
  };
  return new Cluster(where.cluster!.nodes, clusterOptions) as unknown as Redis;
}

/** Whether a connection from createRedis is a Redis Cluster. */
export function isCluster(redis: Redis): boolean {
  return (redis as unknown as { isCluster?: boolean }).isCluster === true;
}

export async function pingWithTimeout(redis: Redis, ms = 1000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
