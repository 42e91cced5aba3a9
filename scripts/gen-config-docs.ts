/**
 * Generates docs/configuration.md from the zod schema (src/config/schema.ts), so the reference
 * never drifts from what `aws-access-bot validate` accepts. `npm run docs:config` writes it;
 * `--check` exits 1 when the committed file is out of date (a test does the same).
 *
 * The walk goes over `z.toJSONSchema(configSchema, { io: 'input' })`: what people write, before
 * durations become seconds. Descriptions come from the schema's `.describe()`; fields without
 * one take theirs from FIELD_NOTES below, and the test insists every field has one.
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

/** `.describe()` texts that explain a type rather than a field; the field's own note wins. */
const TYPE_DESCRIPTIONS = new Set([
  'a duration such as 30m, 2h, 1h30m or 1d',
  'cron expression (UTC unless schedules.timezone says otherwise)',
]);

/** Descriptions for fields whose schema has no `.describe()`; keyed by the documented path. */
export const FIELD_NOTES: Record<string, string> = {
  slack: 'the Slack side: command, channels, who may ask and who administers',
  'slack.channels': 'channel ids (not names); invite the bot to each',
  aws: 'how the bot reaches the member accounts and hands out access',
  'aws.organizations': 'account discovery',
  identities: 'who a Slack user is in AWS: the principal a granted role trusts',
  'identities.byEmail': 'fallback mapping from the Slack profile e-mail',
  templates: 'permission-boundary templates',
  durations: 'limits for every grant; templates and rules may only lower them',
  approval: 'who approves what',
  'approval.rules[].approvers': 'who may approve; checked again at every click',
  'approval.rules[].reason': 'what the reason must look like',
  'approval.rules[].extensions': 'how extensions of a grant under this rule are decided',
  schedules: 'Job Schedulers of the worker role (cron, five fields, or six with seconds)',
  hygiene: 'credential hygiene: the daily sweep, reminders and optional enforcement',
  'hygiene.passwordPolicy': "the minimum each account's IAM password policy must meet",
  redis: 'Redis layout (the URL comes from `REDIS_URL`)',
  'slack.command': 'the slash command, as registered in the Slack app manifest',
  'slack.channels.approvals': 'where approval requests are posted, unless a rule names its own channel',
  'slack.channels.audit': 'every state change, posted in batches',
  'slack.channels.security':
    'break-glass pages, revocation failures, hygiene findings nobody owns, the weekly digest',
  'slack.auditBatchSeconds': 'audit events are collected for this many seconds and posted as one message',
  'aws.region':
    'region written into grants: `${region}` in templates and the CLI profile (the SDK clients use `AWS_REGION`)',
  'aws.brokerRoleName': 'the role the bot assumes in every member account (deploy/aws/broker-role.yaml)',
  'aws.brokerExternalId':
    'external id presented when assuming the broker role; must match the StackSet parameter',
  'aws.brokerSessionDuration': 'length of the broker sessions the bot caches per account',
  'aws.delivery':
    '`assume`: a switch-role link and CLI profile, no secret through Slack; `credentials`: the bot mints a session and DMs a console sign-in link and env exports',
  'aws.federationEndpoint': 'AWS sign-in federation endpoint (console links)',
  'aws.consoleUrl': 'where console sign-in links land',
  'aws.organizations.enabled': 'discover accounts and OUs from AWS Organizations (cached in Redis)',
  'aws.organizations.cacheTtl': 'how long the discovered account tree is cached',
  'aws.organizations.pageSize': 'page size of Organizations list calls',
  'aws.accounts':
    'accounts people may ask for; with Organizations on, names and aliases on top of what it reports',
  'aws.accounts[].id': 'the AWS account id',
  'identities.byEmail.enabled':
    'map a Slack user to an AWS principal by their Slack profile e-mail when they are not in the map',
  'identities.byEmail.identityAccountId':
    'the account holding the IAM users people sign in as (`${identity_account_id}`)',
  'identities.map': 'Slack user id → the AWS principal a granted role trusts',
  'identities.map.<slack user id>': 'one person, keyed by their Slack user id',
  'identities.map.<slack user id>.principal': 'IAM user or role ARN the requester signs in as',
  'identities.map.<slack user id>.email': "the person's e-mail (also used to find key owners tagged `email`)",
  'templates.directory': 'folder of boundary templates (`*.yaml`), relative to the config file',
  'durations.min': 'shortest grant anyone may ask for',
  'durations.max': 'longest grant, whatever the template or rule allows',
  'durations.default': 'grant length when the request does not give one',
  'durations.expiryWarning': 'how long before the end the requester gets the warning DM with Extend',
  'durations.maxExtensions': 'how many times one grant may be extended (a template may lower it)',
  'durations.maxTotal': 'longest a grant may last including extensions',
  'approval.rules': 'approval rules, first match wins; a request no rule matches is refused',
  'approval.rules[].name': 'unique name, shown on the request and in the audit log',
  'approval.rules[].match':
    'what the rule covers; every given criterion must match, an empty match covers everything',
  'approval.rules[].match.templates': 'template names; omitted = any',
  'approval.rules[].match.requesterGroups':
    'Slack user groups the requester must belong to; omitted = anyone',
  'approval.rules[].approvers.users': 'Slack users who may approve',
  'approval.rules[].approvers.groups':
    'Slack user groups whose members may approve (looked up at click time)',
  'approval.rules[].approvalsRequired': 'distinct approvals needed (the requester never counts)',
  'approval.rules[].reason.required': 'a reason must be given',
  'approval.rules[].reason.pattern': 'regular expression the reason must match, e.g. `^(INC|CHG)-\\d+`',
  'approval.rules[].maxDuration': 'longest grant under this rule',
  'approval.rules[].autoApprove': 'grant at once without approvers (sandbox self-service, break-glass)',
  'approval.rules[].reminderAfter': 'remind the approvers when still pending after this',
  'approval.rules[].escalateAfter': 'escalate (to `escalationChannel`) when still pending after this',
  'approval.rules[].escalationChannel': 'where escalations go; default `slack.channels.security`',
  'approval.rules[].extensions.autoApprove': 'extensions are granted without a new approval',
  'schedules.timezone': 'IANA time zone the cron expressions (and "one reminder per day") use',
  'schedules.reconcile': 'find orphaned or overdue `/aws-access/` roles and revoke them',
  'schedules.hygiene': 'daily credential sweep of every account',
  'schedules.rotationReminders': 'DM key owners whose keys are past rotation age',
  'schedules.digest': 'weekly hygiene and access digest to the security channel',
  'hygiene.mode':
    '`report` only reports; `enforce` also deactivates unused keys after a warning and the grace period',
  'hygiene.unusedKeyDays': 'an access key unused this long is a finding',
  'hygiene.rotationDays': 'an access key older than this is past rotation age',
  'hygiene.unusedPasswordDays': 'a console password unused this long is a finding',
  'hygiene.gracePeriodDays': 'enforce: days between the warning and deactivating an unused key',
  'hygiene.escalateAfterDays': 'escalate a key to the security channel this long after its first reminder',
  'hygiene.enforceUnowned': 'enforce: also deactivate unused keys nobody owns',
  'hygiene.passwordPolicy.minimumLength': 'password policy check: minimum length at least this',
  'hygiene.passwordPolicy.requireSymbols': 'password policy check: symbols required',
  'hygiene.passwordPolicy.requireNumbers': 'password policy check: numbers required',
  'hygiene.passwordPolicy.requireUppercase': 'password policy check: upper-case letters required',
  'hygiene.passwordPolicy.requireLowercase': 'password policy check: lower-case letters required',
  'hygiene.passwordPolicy.maxAgeDays':
    'password policy check: passwords expire within this many days (0: not checked)',
  'hygiene.passwordPolicy.reusePrevention':
    'password policy check: remembers at least this many previous passwords',
};

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
      node.description && !TYPE_DESCRIPTIONS.has(node.description) ? node.description : FIELD_NOTES[at];
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
    '',
    'Checked across fields: `durations.min` ≤ `durations.default` ≤ `durations.max` ≤ `durations.maxTotal`;',
    "rule names are unique; a rule without `autoApprove` needs approver users or groups; a rule's",
    '`escalateAfter` is not earlier than its `reminderAfter`.',
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
