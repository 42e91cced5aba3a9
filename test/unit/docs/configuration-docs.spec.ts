import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/load-config.js';
import {
  collectFields,
  configJsonSchema,
  DOCS_FILE,
  renderConfigDocs,
} from '../../../scripts/gen-config-docs.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Every path a parsed config has, written the way the reference writes paths. */
function valuePaths(value: unknown, at: string, mapKeys: Record<string, string>): string[] {
  if (Array.isArray(value)) {
    return value.flatMap((item) =>
      item && typeof item === 'object' ? valuePaths(item, `${at}[]`, mapKeys) : [],
    );
  }
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const here = at in mapKeys ? `${at}.${mapKeys[at]}` : at ? `${at}.${key}` : key;
    return [here, ...valuePaths(child, here, mapKeys)];
  });
}

describe('the configuration reference (docs/configuration.md)', () => {
  const fields = collectFields(configJsonSchema());
  const byPath = new Map(fields.map((f) => [f.path, f]));

  it('is exactly what npm run docs:config generates from the schema', async () => {
    expect(readFileSync(DOCS_FILE, 'utf8')).toBe(await renderConfigDocs());
  });

  it('lists every field a full configuration can hold, nested lists and maps included', () => {
    const example = parseConfigText(
      'example.yaml',
      readFileSync(path.join(ROOT, 'config/example.yaml'), 'utf8'),
    );
    const paths = valuePaths(example, '', { 'identities.map': '<slack user id>' });
    expect(paths.length).toBeGreaterThan(60);
    const missing = paths.filter((p) => !byPath.has(p));
    expect(missing).toEqual([]);
  });

  it('gives every field a type and a description of its own', () => {
    expect(fields.filter((f) => !f.description).map((f) => f.path)).toEqual([]);
    expect(fields.filter((f) => !f.type).map((f) => f.path)).toEqual([]);
  });

  it("takes every description from the zod schema's .describe(), defaults and cross-field rules included", () => {
    const script = readFileSync(path.join(ROOT, 'scripts/gen-config-docs.ts'), 'utf8');
    expect(script).not.toMatch(/FIELD_NOTES/);
    // A field with a default keeps its own text, not the shared duration/cron type text.
    expect(byPath.get('durations.expiryWarning')?.description).toBe(
      'how long before the end the requester gets the warning DM with Extend',
    );
    expect(byPath.get('schedules.digest')?.description).toMatch(/weekly hygiene/);
    expect(byPath.get('durations')?.description).toMatch(/`min` ≤ `default` ≤ `max` ≤ `maxTotal`/);
    expect(byPath.get('approval.rules[].approvers')?.description).toMatch(/unless `autoApprove`/);
    // The Helm values schema is generated from the same texts.
    const json = configJsonSchema() as { properties: Record<string, { description?: string }> };
    expect(json.properties.hygiene?.description).toBe(byPath.get('hygiene')?.description);
  });

  it('shows defaults as people write them: durations as durations, required fields as required', () => {
    expect(byPath.get('durations.expiryWarning')).toMatchObject({ type: 'duration', default: '`10m`' });
    expect(byPath.get('approval.rules[].ttl')).toMatchObject({ type: 'duration', default: '`1d`' });
    expect(byPath.get('hygiene.passwordPolicy.reusePrevention')?.default).toBe('`24`');
    expect(byPath.get('slack.channels.audit')).toMatchObject({ required: true, default: undefined });
    expect(byPath.get('aws.delivery')?.type).toBe('`assume` | `credentials`');
    expect(byPath.get('identities.map.<slack user id>.principal')?.type).toBe('IAM principal ARN');
  });
});
