/**
 * Generates docs/configuration.md from the zod schema (src/config/schema/), so the reference
 * never drifts from what `aws-access-bot validate` accepts. `npm run docs:config` writes it;
 * `--check` exits 1 when the committed file is out of date (a test does the same).
 *
 * The walk goes over `z.toJSONSchema(configSchema, { io: 'input' })`: what people write, before
 * durations become seconds. Every description comes from the schema's own `.describe()` (the one
 * source of truth; the Helm values schema carries the same texts), and a test insists every field
 * has one. Rules that span fields are noted on the object or field they concern.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { z } from 'zod';
import { formatDuration } from '../src/domain/duration.js';
import { configSchema } from '../src/config/schema.js';

export const DOCS_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../docs/configuration.md',
);

/**
 * `.describe()` texts of shared types (durationSchema, cron): on a field they mean it has no
 * description of its own, which the docs test reports.
 */
const TYPE_DESCRIPTIONS = new Set([
  'a duration such as 30m, 2h, 1h30m or 1d',
  'cron expression (UTC unless schedules.timezone says otherwise)',
]);

/** Id formats by the patterns the schema uses, in the words of its own error messages. */
const PATTERN_TYPES: Array<[RegExp, string]> = [
  [/^\^\\d\{12\}\$$/, 'AWS account id (12 digits)'],
  [/^\^\[UW\]/, 'Slack user id (`U…`)'],
  [/^\^S\[/, 'Slack user-group id (`S…`)'],
  [/^\^\[CGD\]/, 'Slack channel id (`C…`)'],
  [/^\^\(\\S\+\\s\+\)/, 'cron expression'],
  [/^\^\(ou-/, 'OU id (`ou-…`) or root id (`r-…`)'],
  [/^\^arn:aws/, 'IAM principal ARN'],
];

type Json = {
  type?: string | string[];
  properties?: Record<string, Json>;
  required?: string[];
  items?: Json;
  additionalProperties?: Json | boolean;
  propertyNames?: Json;
  anyOf?: Json[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  minItems?: number;
  'x-duration'?: boolean;
};

export interface FieldDoc {
  path: string;
  type: string;
  required: boolean;
  default?: string;
  description?: string;
}

function isDuration(node: Json): boolean {
  return (
    node['x-duration'] === true ||
    (Array.isArray(node.anyOf) &&
      node.anyOf.some((n) => n.type === 'string') &&
      node.anyOf.some((n) => n.type === 'integer'))
  );
}

function isObject(node: Json): boolean {
  return (
    node.type === 'object' && (node.properties !== undefined || typeof node.additionalProperties === 'object')
  );
}

function bounds(node: Json): string {
  const parts: string[] = [];
  if (node.exclusiveMinimum !== undefined) parts.push(`> ${node.exclusiveMinimum}`);
  if (node.minimum !== undefined) parts.push(`≥ ${node.minimum}`);
  if (node.maximum !== undefined && node.maximum < Number.MAX_SAFE_INTEGER) parts.push(`≤ ${node.maximum}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

function typeOf(node: Json): string {
  if (isDuration(node)) return 'duration';
  if (node.enum) return node.enum.map((v) => `\`${String(v)}\``).join(' | ');
  if (node.type === 'array') return `list of ${node.items ? typeOf(node.items) : 'values'}`;
  if (node.type === 'object') return typeof node.additionalProperties === 'object' ? 'map' : 'object';
  if (node.type === 'string') {
    if (node.pattern) {
      const known = PATTERN_TYPES.find(([re]) => re.test(node.pattern!));
      if (known) return known[1];
      if (node.format === 'starts_with')
        return `string starting with \`${node.pattern.slice(2, -2).replace(/\\/g, '')}\``;
      if (node.format === 'email') return 'e-mail address';
      return `string matching \`${node.pattern}\``;
    }
    if (node.format === 'uri') return 'URL';
    return node.minLength ? 'non-empty string' : 'string';
  }
  if (node.type === 'integer') return `integer${bounds(node)}`;
  if (node.type === 'number') return `number${bounds(node)}`;
  if (node.type === 'boolean') return 'boolean';
  return String(node.type ?? 'any');
}

function showDefault(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.length === 0 ? '`[]`' : `\`${JSON.stringify(value)}\``;
  if (typeof value === 'object' && value !== null) return undefined; // its fields carry their own
  return `\`${String(value)}\``;
}

/** Every field, depth first, in schema order; objects are listed before their fields. */
export function collectFields(root: Json): FieldDoc[] {
  const out: FieldDoc[] = [];
  const visit = (node: Json, at: string, required: boolean) => {
    const description =
      node.description && !TYPE_DESCRIPTIONS.has(node.description) ? node.description : undefined;
    const leafLike = !isObject(node) && !(node.type === 'array' && node.items && isObject(node.items));
    const field: FieldDoc = {
      path: at,
      type: typeOf(node),
      required,
      default: showDefault(node.default),
      description,
    };
    if (at) out.push(field);
    if (leafLike) return;
    if (node.type === 'array' && node.items) {
      visitProperties(node.items, `${at}[]`);
      return;
    }
    visitProperties(node, at);
  };
  const visitProperties = (node: Json, at: string) => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      visit(child, at ? `${at}.${key}` : key, node.required?.includes(key) ?? false);
    }
    if (typeof node.additionalProperties === 'object') {
      const keyType = node.propertyNames ? typeOf(node.propertyNames).replace(/ \(.*\)$/, '') : 'key';
      visit(node.additionalProperties, `${at}.<${keyType.toLowerCase()}>`, false);
    }
  };
  visit(root, '', true);
  return out;
}

/** The schema as people write it; duration defaults (stored as seconds) shown as durations. */
export function configJsonSchema(): Json {
  return z.toJSONSchema(configSchema, {
    io: 'input',
    unrepresentable: 'any',
    override: (ctx) => {
      const def = (ctx.zodSchema as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
      const inner = (def.innerType as { _zod?: { def: { type: string } } } | undefined)?._zod?.def;
      if (def.type === 'default' && inner?.type === 'pipe' && typeof def.defaultValue === 'number') {
        ctx.jsonSchema.default = formatDuration(def.defaultValue);
      }
    },
  }) as Json;
}

function cell(text: string | undefined): string {
  return (text ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The page, formatted the way `npm run lint` (prettier --check) expects. */
export async function renderConfigDocs(): Promise<string> {
  const options = (await resolveConfig(DOCS_FILE)) ?? {};
  return format(configDocsMarkdown(), { ...options, parser: 'markdown' });
}

export function configDocsMarkdown(): string {
  const fields = collectFields(configJsonSchema());
  const sections = new Map<string, FieldDoc[]>();
  for (const f of fields) {
    const top = f.path.split(/[.[]/)[0]!;
    sections.set(top, [...(sections.get(top) ?? []), f]);
  }
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs:config`. Do not edit by hand: a test checks it is current. -->',
    '',
    'One YAML file: `AWS_ACCESS_CONFIG` names it (default `config/aws-access.yaml`); the Helm chart renders it',
    'from the `config:` value. `aws-access-bot validate --config FILE` checks it and the templates and prints',
    'every problem as `file: path.to.field: message`. A commented example is',
    '[`config/example.yaml`](../config/example.yaml). Secrets never go here: Slack tokens and the Redis URL',
    'come from the environment (see the README).',
    '',
    '- Every object is strict: an unknown or misspelt key is an error naming the field.',
    '- A **duration** is text such as `30s`, `15m`, `2h`, `1h30m`, `1d` or `1w`; a bare YAML number is seconds.',
    '- `[]` in a path marks the fields of each list item; `<…>` a map key.',
    '- Fields marked **required** have no default; the others may be left out.',
    '- Rules across fields (duration limits in order, unique rule names, approvers unless `autoApprove`,',
    '  `escalateAfter` not before `reminderAfter`) are checked too; each is noted on the field it concerns.',
  ];
  for (const [top, docs] of sections) {
    lines.push(
      '',
      `## \`${top}\``,
      '',
      '| field | type | default | description |',
      '| --- | --- | --- | --- |',
    );
    for (const f of docs) {
      const def = f.default ?? (f.required ? '**required**' : '—');
      lines.push(`| \`${cell(f.path)}\` | ${cell(f.type)} | ${cell(def)} | ${cell(f.description)} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const text = await renderConfigDocs();
  if (argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(DOCS_FILE, 'utf8');
    } catch {
      // missing counts as out of date
    }
    if (current !== text) {
      process.stderr.write(
        `${path.relative(process.cwd(), DOCS_FILE)} is out of date: run npm run docs:config\n`,
      );
      return 1;
    }
    process.stdout.write(`${path.relative(process.cwd(), DOCS_FILE)} is up to date\n`);
    return 0;
  }
  writeFileSync(DOCS_FILE, text);
  process.stdout.write(`wrote ${path.relative(process.cwd(), DOCS_FILE)}\n`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
