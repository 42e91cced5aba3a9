import { z } from 'zod';
import { withFieldDefaults } from './primitives.js';

const hostPort = z
  .object({
    host: z.string().min(1).describe('host name or IP address'),
    port: z.number().int().min(1).max(65535).describe('TCP port'),
  })
  .strict();

/**
 * The hash tag Redis Cluster would use for keys starting with `prefix`: what lies between the
 * first `{` and the first `}` after it, when that is not empty (the cluster spec's rule), or
 * undefined when the prefix has none (then each key hashes whole and keys spread over slots).
 */
export function hashTagOf(prefix: string): string | undefined {
  const open = prefix.indexOf('{');
  if (open < 0) return undefined;
  const close = prefix.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return undefined;
  return prefix.slice(open + 1, close);
}

export const redisSchema = withFieldDefaults(
  z
    .object({
      prefix: z
        .string()
        .regex(/^[A-Za-z0-9:{}_-]+$/, 'letters, digits, : _ - and {} (Redis Cluster hash tag) only')
        .default('aab')
        .describe(
          'prefix for every key and queue; on Redis Cluster it must carry a hash tag such as `{aab}`, so every key of the bot (and every BullMQ queue) lands in one slot',
        ),
      cluster: z
        .object({
          nodes: z
            .array(hostPort)
            .min(1)
            .describe('seed nodes of the Redis Cluster (any of its masters; the rest is discovered)'),
        })
        .strict()
        .optional()
        .describe(
          'connect to a Redis Cluster instead of the single Redis of `REDIS_URL` (whose user, password and `rediss:` TLS still apply to every node)',
        ),
      sentinel: z
        .object({
          sentinels: z.array(hostPort).min(1).describe('the Sentinels to ask for the current primary'),
          name: z.string().min(1).describe('the monitored primary’s name (`sentinel monitor <name> …`)'),
        })
        .strict()
        .optional()
        .describe(
          'find the primary through Redis Sentinel instead of `REDIS_URL`’s host (whose user, password, database and `rediss:` TLS still apply to the primary)',
        ),
    })
    .strict()
    .superRefine((redis, ctx) => {
      if (redis.cluster && redis.sentinel) {
        ctx.addIssue({
          code: 'custom',
          path: ['sentinel'],
          message: 'redis.cluster and redis.sentinel are mutually exclusive: configure one of them',
        });
      }
      if (redis.cluster && hashTagOf(redis.prefix) === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['prefix'],
          message: `on Redis Cluster redis.prefix must contain a hash tag such as "{${redis.prefix.replace(/[{}]/g, '') || 'aab'}}", so every key of a request, the audit stream and the queues share one slot (got "${redis.prefix}")`,
        });
      }
    }),
).describe(
  'Redis layout and topology: a single Redis at `REDIS_URL` (the default), a Redis Cluster (`cluster`) or a Sentinel-managed primary (`sentinel`)',
);
