import { z } from 'zod';
import { withFieldDefaults } from './primitives.js';

export const templatesSchema = withFieldDefaults(
  z
    .object({
      directory: z
        .string()
        .default('templates')
        .describe('folder of boundary templates (`*.yaml`), relative to the config file'),
    })
    .strict(),
).describe('permission-boundary templates');
