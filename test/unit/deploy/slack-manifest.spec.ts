import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { repoPath } from './support/paths.js';
import {
  EVENT_SCOPES,
  findListeners,
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

  // While src/ holds only the foundation (no Web API call yet), the manifest already lists what
  // the Slack listeners will call; from the first call on, the manifest must match exactly.
  it.skipIf(usage.methods.size === 0)('grants no scope the code does not need', () => {
    const extra = manifestScopes.filter((s) => !required.scopes.has(s));
    expect(extra, describeUsage(usage)).toEqual([]);
  });

  it.skipIf(usage.methods.size === 0)('subscribes to exactly the events the code listens to', () => {
    expect([...manifest.settings.event_subscriptions.bot_events].sort()).toEqual([...usage.events].sort());
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
