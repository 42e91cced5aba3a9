/** Rewrites the generated `config` section of helm/aws-access-bot/values.schema.json. */
import { readFileSync, writeFileSync } from 'node:fs';
import { format, resolveConfig } from 'prettier';
import { repoPath } from './paths.js';
import { configValuesSchema } from './values-schema.js';

const path = repoPath('helm/aws-access-bot/values.schema.json');
const schema = JSON.parse(readFileSync(path, 'utf8')) as { properties: Record<string, unknown> };
schema.properties.config = configValuesSchema();
writeFileSync(
  path,
  await format(JSON.stringify(schema, null, 2), { ...(await resolveConfig(path)), filepath: path }),
);
console.log(`wrote ${path}`);
