/**
 * Which Slack bot scopes the code needs, derived from the source: find every Web API method it
 * calls and every Bolt listener it registers, then map them to scopes with the tables below.
 *
 * A method is recognised when a member chain ending in a real Web API method name is called
 * (`client.chat.postMessage(`, `app.client.usergroups.users.list(`, `chat?.update(`), or when a
 * string literal is exactly a method name (`client.apiCall('users.info', …)`, retry wrappers
 * that take the method as text). The method names come from the installed @slack/web-api, so
 * `rule.approvers.users.map(` is not mistaken for a Slack call.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';

/** Bot scopes per Web API method (https://api.slack.com/methods). Empty: no scope needed. */
export const METHOD_SCOPES: Record<string, string[]> = {
  'auth.test': [],
  'chat.postMessage': ['chat:write'],
  'chat.postEphemeral': ['chat:write'],
  'chat.update': ['chat:write'],
  'chat.delete': ['chat:write'],
  'chat.scheduleMessage': ['chat:write'],
  'chat.getPermalink': [],
  // conversations.open accepts any of channels:manage, groups:write, im:write, mpim:write;
  // the bot only opens 1:1 DMs, so im:write is the least.
  'conversations.open': ['im:write'],
  // The security channel may be public (channels:read) or private (groups:read).
  'conversations.members': ['channels:read', 'groups:read'],
  'views.open': [],
  'views.push': [],
  'views.update': [],
  'views.publish': [],
  'users.info': ['users:read'],
  'users.list': ['users:read'],
  // Slack grants users:read.email only together with users:read.
  'users.lookupByEmail': ['users:read', 'users:read.email'],
  'users.profile.get': ['users.profile:read'],
  'usergroups.list': ['usergroups:read'],
  'usergroups.users.list': ['usergroups:read'],
  'team.info': ['team:read'],
};

/**
 * Web API calls Bolt makes itself, by what in our code makes it make them. `new App(` verifies
 * the bot token with auth.test at start; `say` (from a listener's arguments) is chat.postMessage.
 * `respond` and `ack` answer through response_url or the HTTP response and need no scope.
 */
export const BOLT_CALLS: Array<{ method: string; why: string; when: RegExp }> = [
  { method: 'auth.test', why: 'Bolt verifies the bot token at start', when: /\bnew\s+App\s*\(/ },
  { method: 'chat.postMessage', why: "Bolt's say()", when: /\{[^{}]*\bsay\b[^{}]*\}\s*\)\s*=>/ },
];

/**
 * Socket Mode connects with the app-level token (apps.connections.open), whose scope is set
 * when that token is created, not in the manifest's bot scopes.
 */
export const APP_TOKEN_SCOPE = { method: 'apps.connections.open', scope: 'connections:write' } as const;

/** Bot scopes per Events API event the app subscribes to. */
export const EVENT_SCOPES: Record<string, string[]> = {
  app_home_opened: [],
  app_mention: ['app_mentions:read'],
  'message.im': ['im:history'],
};

/** Scopes a listener kind needs (interactivity — actions, views, shortcuts — needs none). */
export const LISTENER_SCOPES: Record<string, string[]> = {
  command: ['commands'],
};

/**
 * Scopes needed because of what the code reads from a response rather than which method it
 * calls. users.info and users.list return `profile.email` only with users:read.email; the
 * identities.byEmail fallback (Slack e-mail -> AWS principal) and the hygiene sweep's e-mail
 * owner tags (users.list directory) read it.
 */
export const FEATURE_SCOPES: Array<{
  scope: string;
  why: string;
  needed: (source: string, methods: Set<string>) => boolean;
}> = [
  {
    scope: 'users:read.email',
    why: 'the e-mail identity fallback and hygiene owner tags read profile.email (users.info, users.list)',
    needed: (source, methods) =>
      (methods.has('users.info') || methods.has('users.list')) &&
      (/\bprofile\s*\??\.\s*email\b/.test(source) ||
        /\{[^{}]*\bemail\b[^{}]*\}\s*=\s*[\w$.?]*\bprofile\b/.test(source)),
  },
];

/** Every Web API method name @slack/web-api knows. */
export function webApiMethodNames(): Set<string> {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('@slack/web-api');
  const methodsJs = readFileSync(join(dirname(entry), 'methods.js'), 'utf8');
  return new Set([...methodsJs.matchAll(/bindApiCall\w*\(this, '([A-Za-z.]+)'/g)].map((m) => m[1]!));
}

/** Drops block comments and whole-line or trailing `//` comments (not `://` in URLs). */
export function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\w])\/\/.*$/gm, '$1');
}

export function findWebApiMethods(source: string, known: Set<string>): Set<string> {
  const code = stripComments(source);
  const found = new Set<string>();
  for (const m of code.matchAll(
    /([A-Za-z_$][\w$]*(?:\s*\??\.\s*[A-Za-z_$][\w$]*)+)\s*(?:<[^<>()]*>)?\s*\(/g,
  )) {
    const parts = m[1]!.split(/\s*\??\.\s*/);
    for (let start = 0; start <= parts.length - 2; start++) {
      const name = parts.slice(start).join('.');
      if (known.has(name)) {
        found.add(name);
        break;
      }
    }
  }
  for (const m of code.matchAll(/(['"`])([a-z]+(?:\.[A-Za-z]+)+)\1/g)) {
    if (known.has(m[2]!)) found.add(m[2]!);
  }
  return found;
}

export interface SlackUsage {
  methods: Set<string>;
  events: Set<string>;
  listeners: Set<string>;
  /** method or listener -> files, for messages. */
  where: Map<string, string[]>;
  source: string;
}

/** Bolt listener registrations on the App (`app.command(`, `app.event('x'`, `app.message(`). */
export function findListeners(source: string): { listeners: Set<string>; events: Set<string> } {
  const code = stripComments(source);
  const listeners = new Set<string>();
  const events = new Set<string>();
  for (const m of code.matchAll(
    /\bapp\s*\.\s*(command|event|message|action|view|shortcut|options)\s*\(\s*(['"`]([\w.]+)['"`])?/g,
  )) {
    listeners.add(m[1]!);
    if (m[1] === 'event' && m[3]) events.add(m[3]);
    if (m[1] === 'message') events.add('message.im');
  }
  return { listeners, events };
}

export function listSourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return listSourceFiles(path);
    return /\.(ts|js|mjs)$/.test(entry) && !entry.endsWith('.d.ts') ? [path] : [];
  });
}

export function scanSlackUsage(srcDir: string): SlackUsage {
  const known = webApiMethodNames();
  const usage: SlackUsage = {
    methods: new Set(),
    events: new Set(),
    listeners: new Set(),
    where: new Map(),
    source: '',
  };
  for (const file of listSourceFiles(srcDir)) {
    const text = readFileSync(file, 'utf8');
    usage.source += `\n${text}`;
    const rel = relative(srcDir, file);
    const { listeners, events } = findListeners(text);
    const methods = findWebApiMethods(text, known);
    const code = stripComments(text);
    for (const call of BOLT_CALLS) if (call.when.test(code)) methods.add(call.method);
    for (const name of [...methods, ...listeners]) {
      usage.where.set(name, [...(usage.where.get(name) ?? []), rel]);
    }
    methods.forEach((m) => usage.methods.add(m));
    listeners.forEach((l) => usage.listeners.add(l));
    events.forEach((e) => usage.events.add(e));
  }
  return usage;
}

export interface RequiredScopes {
  scopes: Set<string>;
  /** Methods or events with no entry in the tables: add them before trusting the result. */
  unknown: string[];
}

export function requiredScopes(usage: SlackUsage): RequiredScopes {
  const scopes = new Set<string>();
  const unknown: string[] = [];
  for (const method of usage.methods) {
    const needed = METHOD_SCOPES[method];
    if (needed) needed.forEach((s) => scopes.add(s));
    else unknown.push(`method ${method}`);
  }
  for (const event of usage.events) {
    const needed = EVENT_SCOPES[event];
    if (needed) needed.forEach((s) => scopes.add(s));
    else unknown.push(`event ${event}`);
  }
  for (const listener of usage.listeners) (LISTENER_SCOPES[listener] ?? []).forEach((s) => scopes.add(s));
  for (const feature of FEATURE_SCOPES) {
    if (feature.needed(usage.source, usage.methods)) scopes.add(feature.scope);
  }
  return { scopes, unknown };
}
