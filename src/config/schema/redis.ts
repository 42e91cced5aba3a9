import { z } from 'zod';
import { withFieldDefaults } from './primitives.js';

export const redisSchema = withFieldDefaults(
  z
    .object({
      prefix: z
        .string()
        .regex(/^[A-Za-z0-9:{}_-]+$/, 'letters, digits, : _ - and {} (Redis Cluster hash tag) only')
        .default('aab')
        .describe('prefix for every key and queue; wrap in {} on Redis Cluster'),
    })
    .strict(),
).describe('Redis layout (the URL comes from `REDIS_URL`)');
