/**
 * The `config` section of the Helm chart's values.schema.json is generated from the zod config
 * schema, so `helm install` rejects a config the bot would reject at start-up (key names, types,
 * id formats, unknown keys); cross-field rules (durations, duplicate rule names) stay with
 * `aws-access-bot validate`. `templates` is left out: the chart sets templates.directory itself.
 *
 * Regenerate after changing src/config/schema.ts:
 *   npx tsx test/unit/deploy/support/write-values-schema.ts
 */
import { z } from 'zod';
import { configSchema } from '../../../../src/config/schema.js';

/** JSON Schema formats Helm's validators and ajv both know; zod's own (starts_with, …) are dropped. */
const STANDARD_FORMATS = new Set(['uri', 'email', 'date-time', 'regex']);

function clean(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(clean);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema') continue;
    if (key === 'format' && typeof value === 'string' && !STANDARD_FORMATS.has(value)) continue;
    out[key] = clean(value);
  }
  return out;
}

export function configValuesSchema(): Record<string, unknown> {
  const schema = clean(
    z.toJSONSchema(configSchema, { io: 'input', target: 'draft-7', unrepresentable: 'any' }),
  ) as { properties: Record<string, unknown>; description?: string };
  delete schema.properties.templates;
  schema.description =
    'The bot configuration file (config/example.yaml); templates.directory is set by the chart.';
  return schema;
}
