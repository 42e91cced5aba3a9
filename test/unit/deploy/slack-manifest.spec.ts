import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { repoPath } from './support/paths.js';
import {
  APP_TOKEN_SCOPE,
  BOLT_CALLS,
  EVENT_SCOPES,
  findListeners,
  listSourceFiles,
  stripComments,
  findWebApiMethods,
  requiredScopes,
  scanSlackUsage,
  webApiMethodNames,
  type SlackUsage,
} from './support/slack-scopes.js';

interface Manifest {
  features: {
    app_home: { home_tab_enabled: boolean; messages_tab_enabled: boolean };
    slash_commands: Array<{ command: string; url: string; usage_hint?: string; description: string }>;
    bot_user: { display_name: string };
  };
  oauth_config: { scopes: { bot: string[]; user?: string[] } };
  settings: {
    event_subscriptions: { request_url: string; bot_events: string[] };
    interactivity: { is_enabled: boolean; request_url: string; message_menu_options_url?: string };
    socket_mode_enabled: boolean;
  };
}

const manifest = parse(readFileSync(repoPath('deploy/slack-manifest.yaml'), 'utf8')) as Manifest;
const usage = scanSlackUsage(repoPath('src'));
const required = requiredScopes(usage);
const manifestScopes = [...manifest.oauth_config.scopes.bot].sort();
const REQUEST_URL = 'https://example.com/slack/events';

function describeUsage(u: SlackUsage): string {
  return [...u.where].map(([name, files]) => `${name}: ${files.join(', ')}`).join('\n');
}

describe('finding the Web API methods the code calls', () => {
  const known = webApiMethodNames();

  it('knows the Web API method names from @slack/web-api', () => {
    for (const m of ['chat.postMessage', 'views.publish', 'usergroups.users.list', 'users.lookupByEmail']) {
      expect(known.has(m), m).toBe(true);
    }
  });

  it('finds client method calls, optional chaining, generics, nested families and apiCall strings', () => {
    const source = `
      await client.chat.postMessage({ channel, text });
      await this.web.chat?.update<ChatUpdateResponse>({ ts });
      const members = await app.client.usergroups.users.list({ usergroup });
      await web.apiCall('users.lookupByEmail', { email });
      await withRetry(client, "views.publish", args);
      const { chat } = client; await chat.postEphemeral({ user });
    `;
    expect([...findWebApiMethods(source, known)].sort()).toEqual([
      'chat.postEphemeral',
      'chat.postMessage',
      'chat.update',
      'usergroups.users.list',
      'users.lookupByEmail',
      'views.publish',
    ]);
  });

  it('ignores look-alike calls and comments', () => {
    const source = `
      const ids = rule.approvers.users.map((u) => u.id);
      config.slack.channels.audit.trim();
      // client.users.info({ user }) would need users:read
      /* client.conversations.open() */
      const url = 'https://slack.com/api/chat.postMessage';
    `;
    expect([...findWebApiMethods(source, known)]).toEqual([]);
  });

  it('finds Bolt listener registrations and the events they subscribe to', () => {
    const found = findListeners(`
      app.command(command, handler);
      app.event('app_home_opened', home);
      app.action(/^approve:/, approve);
    `);
    expect([...found.listeners].sort()).toEqual(['action', 'command', 'event']);
    expect([...found.events]).toEqual(['app_home_opened']);
  });

  it('asks for users:read.email only when the code reads the profile e-mail', () => {
    const base = { events: new Set<string>(), listeners: new Set<string>(), where: new Map() };
    const withoutEmail = requiredScopes({
      ...base,
      methods: new Set(['users.info']),
      source: 'user.real_name',
    });
    const withEmail = requiredScopes({
      ...base,
      methods: new Set(['users.info']),
      source: 'const email = res.user?.profile?.email;',
    });
    expect([...withoutEmail.scopes]).toEqual(['users:read']);
    expect([...withEmail.scopes].sort()).toEqual(['users:read', 'users:read.email']);
    const directory = requiredScopes({
      ...base,
      methods: new Set(['users.list']),
      source: 'const email = member.profile?.email?.toLowerCase();',
    });
    expect([...directory.scopes].sort()).toEqual(['users:read', 'users:read.email']);
  });

  it("counts Bolt's own calls: auth.test when the App is created, chat.postMessage for say()", () => {
    expect(usage.where.get('auth.test')).toEqual(['slack/slack-app.ts']);
    const say = BOLT_CALLS.find((c) => c.why.includes('say'))!;
    expect(say.when.test("app.message('hi', async ({ message, say }) => { await say('x'); });")).toBe(true);
    expect(say.when.test('app.action(id, async ({ ack, body, respond }) => {});')).toBe(false);
  });

  // A call the scan cannot read would leave its scope out of the check: every file that calls
  // a method on a Slack client must show up with the methods it calls.
  it('finds a Web API method in every file that calls one on a Slack client', () => {
    const src = repoPath('src');
    const clientCall =
      /\b(?:client|slack|web)\s*\??\.\s*[a-z]+\s*\??\.\s*[a-zA-Z.]+\s*(?:<[^<>()]*>)?\s*\(|\.apiCall\s*\(/;
    const callers = listSourceFiles(src)
      .filter((file) => clientCall.test(stripComments(readFileSync(file, 'utf8'))))
      .map((file) => relative(src, file));
    const found = new Set([...usage.where.values()].flat());
    expect(callers.length).toBeGreaterThan(5);
    expect(callers.filter((file) => !found.has(file))).toEqual([]);
    for (const [file, method] of [
      ['slack/slack-notifier.ts', 'chat.update'],
      ['slack/slack-audit-channel.ts', 'chat.postMessage'],
      ['slack/hygiene/notifier.ts', 'chat.postMessage'],
      ['slack/hygiene/snooze-action.ts', 'chat.postEphemeral'],
      ['slack/hygiene/people-directory.ts', 'users.list'],
      ['slack/slack-people.ts', 'usergroups.users.list'],
      ['slack/listeners/events/app-home-opened.ts', 'views.publish'],
      ['slack/listeners/views/request-forms.ts', 'views.update'],
    ] as const) {
      expect(usage.where.get(method), method).toContain(file);
    }
  });

  it('finds the sweep reading the Slack directory with users.list, not users.lookupByEmail', () => {
    expect(usage.methods.has('users.list')).toBe(true);
    expect(usage.methods.has('users.lookupByEmail')).toBe(false);
    expect(required.scopes.has('users:read.email')).toBe(true);
  });
});

describe('deploy/slack-manifest.yaml', () => {
  it('every method and event the code uses has an entry in the scope tables', () => {
    expect(required.unknown, describeUsage(usage)).toEqual([]);
  });

  it("grants every scope the code's Web API calls and listeners need", () => {
    const missing = [...required.scopes].filter((s) => !manifestScopes.includes(s));
    expect(missing, describeUsage(usage)).toEqual([]);
    expect(manifest.oauth_config.scopes.user ?? []).toEqual([]);
  });

  it('grants no scope the code does not need', () => {
    const extra = manifestScopes.filter((s) => !required.scopes.has(s));
    expect(extra, describeUsage(usage)).toEqual([]);
  });

  it('subscribes to exactly the events the code listens to', () => {
    expect([...manifest.settings.event_subscriptions.bot_events].sort()).toEqual([...usage.events].sort());
  });

  it('leaves the Socket Mode scope to the app-level token, which the deployment guide asks for', () => {
    expect(manifestScopes).not.toContain(APP_TOKEN_SCOPE.scope);
    if (manifest.settings.socket_mode_enabled) {
      const guide = readFileSync(repoPath('docs/deployment.md'), 'utf8');
      expect(guide).toMatch(new RegExp(`App-Level Tokens[^]{0,80}\`${APP_TOKEN_SCOPE.scope}\``));
    }
  });

  it('grants the scopes of every event it subscribes to', () => {
    for (const event of manifest.settings.event_subscriptions.bot_events) {
      const needed = EVENT_SCOPES[event];
      expect(needed, `${event} is in EVENT_SCOPES`).toBeDefined();
      for (const scope of needed!) expect(manifestScopes, event).toContain(scope);
    }
  });

  it('registers the slash command the config uses, with a usage hint', () => {
    const defaultCommand = configSchema.shape.slack.shape.command.parse(undefined);
    const example = parse(readFileSync(repoPath('config/example.yaml'), 'utf8')) as {
      slack: { command: string };
    };
    expect(manifest.features.slash_commands.map((c) => c.command)).toEqual([defaultCommand]);
    expect(example.slack.command).toBe(defaultCommand);
    const [command] = manifest.features.slash_commands;
    expect(command!.usage_hint).toMatch(/help.*list.*templates/);
    expect(command!.url).toBe(REQUEST_URL);
    expect(usage.listeners.has('command')).toBe(true);
  });

  it('sets the options load URL whenever the code serves external select menus', () => {
    if (usage.listeners.has('options')) {
      expect(manifest.settings.interactivity.message_menu_options_url).toBe(REQUEST_URL);
    } else {
      expect(manifest.settings.interactivity.message_menu_options_url ?? REQUEST_URL).toBe(REQUEST_URL);
    }
  });

  it('enables interactivity, App Home and Socket Mode, all at /slack/events', () => {
    expect(manifest.settings.interactivity).toMatchObject({ is_enabled: true, request_url: REQUEST_URL });
    expect(manifest.settings.event_subscriptions.request_url).toBe(REQUEST_URL);
    expect(manifest.features.app_home).toMatchObject({ home_tab_enabled: true, messages_tab_enabled: true });
    expect(manifest.settings.event_subscriptions.bot_events).toContain('app_home_opened');
    expect(manifest.settings.socket_mode_enabled).toBe(true);
  });
});
