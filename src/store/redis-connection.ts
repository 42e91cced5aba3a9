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
 * serve Slack requests and give up in bounded time so a Redis outage becomes an error, not a
 * hang: a command waits (queued while the connection reconnects) at most `commandTimeout`, and
 * at most two failed reconnects. The bound is longer than a Sentinel failover (about 1-2 s of
 * switch plus a reconnect) and shorter than Slack's patience for the work after an ack.
 */
export const CLIENT_COMMAND_TIMEOUT_MS = 8000;

export function connectionOptions(kind: ConnectionKind, extra: RedisOptions = {}): RedisOptions {
  return kind === 'worker'
    ? { maxRetriesPerRequest: null, enableReadyCheck: true, ...extra }
    : {
        maxRetriesPerRequest: 2,
        enableOfflineQueue: true,
        connectTimeout: 5000,
        commandTimeout: CLIENT_COMMAND_TIMEOUT_MS,
        ...extra,
      };
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

/** ioredis' own default: 50 ms more per attempt, at most 2 s. */
function defaultRetryStrategy(times: number): number {
  return Math.min(times * 50, 2000);
}

/**
 * How long connections stay off the old primary once a failover has begun, at most: the
 * fence lifts at `+switch-master` (or an aborted failover); past this bound they reconnect to
 * whatever the Sentinels name.
 */
export const FAILOVER_FENCE_MAX_MS = 10_000;

/** Sentinel events that announce a failover of the master (the leader publishes them). */
const FAILOVER_STARTS = new Set([
  '+try-failover',
  '+elected-leader',
  '+failover-state-select-slave',
  '+selected-slave',
  '+failover-state-send-slaveof-noone',
]);

/**
 * Keeps the bot's Sentinel connections off the old primary while a failover is under way.
 *
 * Redis replicates asynchronously, and Sentinel promotes the replica (`REPLICAOF NO ONE`) about
 * a second before it announces `+switch-master`; the old primary meanwhile still takes writes,
 * acknowledges them, and throws them away when it is turned into a replica of the new one.
 * ioredis' failoverDetector moves at `+switch-master`, i.e. after that window: measured on the
 * local Sentinel set, every write acknowledged in the ~1 s between promotion and switch was
 * lost, without any error. So the fence listens to the Sentinels' failover events: at the first
 * sign of a failover of our master (`+try-failover` … `+failover-state-send-slaveof-noone`,
 * published before the promotion is sent) it closes every registered connection and holds its
 * reconnect (commands wait in the offline queue, within their timeout) until `+switch-master`
 * or an abort, at most FAILOVER_FENCE_MAX_MS; then they reconnect through the Sentinels to the
 * new primary and send what was queued. Commands that were in flight when the fence closed are
 * resent by ioredis (the bot's writes are compare-and-set or idempotent).
 */
class FailoverFence {
  private holdUntil = 0;
  private readonly connections = new Set<Redis>();
  private watchers: Redis[] = [];

  constructor(private readonly where: RedisTarget) {}

  holdLeftMs(): number {
    return Math.max(0, this.holdUntil - performance.now());
  }

  register(connection: Redis): void {
    if (!this.watchers.length) this.watch();
    this.connections.add(connection);
    connection.once('end', () => {
      this.connections.delete(connection);
      if (!this.connections.size) this.unwatch();
    });
  }

  private watch(): void {
    const { sentinel, sentinelPassword } = this.where;
    this.watchers = sentinel!.sentinels.map(({ host, port }) => {
      const watcher = new Redis({
        host,
        port,
        ...(sentinelPassword ? { password: sentinelPassword } : {}),
        ...(this.where.url.startsWith('rediss:') ? { tls: {} } : {}),
        maxRetriesPerRequest: null,
        connectionName: 'aab-failover-fence',
      });
      watcher.on('error', () => undefined); // a Sentinel down is the others' job
      watcher.on('message', (channel: string, message: string) => this.onEvent(channel, message));
      watcher
        .subscribe(
          ...FAILOVER_STARTS,
          '+switch-master',
          '-failover-abort-not-elected',
          '-failover-abort-no-good-slave',
          '-failover-abort-slave-timeout',
        )
        .catch(() => undefined);
      return watcher;
    });
  }

  private unwatch(): void {
    for (const watcher of this.watchers) watcher.disconnect();
    this.watchers = [];
  }

  private onEvent(channel: string, message: string): void {
    const name = this.where.sentinel!.name;
    // "+try-failover master <name> <ip> <port>", "+selected-slave slave <ip:port> <ip> <port> @ <name> …",
    // "+switch-master <name> <old ip> <old port> <new ip> <new port>"
    const words = message.split(' ');
    const about =
      channel === '+switch-master'
        ? words[0]
        : words[0] === 'master'
          ? words[1]
          : words[words.indexOf('@') + 1];
    if (about !== name) return;
    if (FAILOVER_STARTS.has(channel)) {
      const closing = this.holdLeftMs() === 0;
      this.holdUntil = performance.now() + FAILOVER_FENCE_MAX_MS;
      if (closing) for (const connection of this.connections) connection.disconnect(true);
      return;
    }
    // +switch-master or an abort: let the connections in.
    if (this.holdLeftMs() === 0) return;
    this.holdUntil = 0;
    for (const connection of this.connections) {
      if (connection.status === 'reconnecting') connection.connect().catch(() => undefined);
    }
  }
}

const fences = new Map<string, FailoverFence>();

function failoverFence(where: RedisTarget): FailoverFence {
  const key = JSON.stringify([where.sentinel, where.url]);
  let fence = fences.get(key);
  if (!fence) {
    fence = new FailoverFence(where);
    fences.set(key, fence);
  }
  return fence;
}

/** A Sentinel connection whose duplicates (BullMQ makes them for workers) are fenced too. */
class FencedRedis extends Redis {
  constructor(
    private readonly fence: FailoverFence,
    options: RedisOptions,
  ) {
    super(options as RedisOptions & { replyMapping?: 'legacy' });
  }

  override duplicate(override?: Partial<RedisOptions>): Redis {
    const copy = new FencedRedis(this.fence, { ...this.options, ...override });
    this.fence.register(copy);
    return copy;
  }
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
    const fence = failoverFence(where);
    const retryStrategy = options.retryStrategy ?? defaultRetryStrategy;
    const connection = new FencedRedis(fence, {
      ...credentialsOf(where.url),
      sentinels: where.sentinel.sentinels,
      name: where.sentinel.name,
      ...(where.sentinelPassword ? { sentinelPassword: where.sentinelPassword } : {}),
      // Subscribes to the Sentinels' +switch-master: a failover moves the connection at once.
      failoverDetector: true,
      reconnectOnError: reconnectOnReadonly,
      ...options,
      // While a failover is under way, reconnect only once the Sentinels name the new primary.
      retryStrategy: (times) => {
        const delay = retryStrategy(times);
        return typeof delay === 'number' ? Math.max(delay, fence.holdLeftMs()) : delay;
      },
    });
    fence.register(connection);
    return connection;
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
