/**
 * The demo's output: numbered steps, what people do, and for every Slack Web API call the bot
 * made, who sees it (a channel, a DM, an ephemeral reply) and the message as Slack renders it.
 */
import type { RecordedCall } from '../test/support/fake-slack.js';
import { renderMessage, type Names } from './block-kit-text.js';

export interface Output {
  write(text: string): void;
}

/** Calls that put something in front of a person; the rest (users.info, …) are lookups. */
const VISIBLE = new Set([
  'chat.postMessage',
  'chat.update',
  'chat.postEphemeral',
  'response_url',
  'views.open',
  'views.update',
  'views.push',
  'views.publish',
]);

export function isVisible(call: RecordedCall): boolean {
  return VISIBLE.has(call.method);
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => `${prefix}${line}`.trimEnd())
    .join('\n');
}

export class Transcript {
  private step = 0;
  private readonly started = Date.now();
  /** What each message looked like when last shown, to print updates as changes. */
  private readonly shown = new Map<string, string>();

  constructor(
    private readonly out: Output,
    private readonly names: Names,
  ) {}

  user(id: string): string {
    return `@${this.names.users.get(id) ?? id}`;
  }

  private channel(id: string): string {
    if (/^[UW]/.test(id)) return `DM to ${this.user(id)}`;
    if (id.startsWith('D')) return `DM to ${this.user(id.slice(1))}`;
    return `#${this.names.channels.get(id) ?? id}`;
  }

  private elapsed(): string {
    const s = Math.round((Date.now() - this.started) / 1000);
    return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  }

  line(text = ''): void {
    this.out.write(`${text}\n`);
  }

  title(text: string): void {
    this.line(`\n${'═'.repeat(78)}\n  ${text}\n${'═'.repeat(78)}`);
  }

  /** Starts a numbered step; the heading carries the marker the demo test looks for. */
  section(heading: string): void {
    this.step += 1;
    this.line(
      `\n── [${this.elapsed()}] Step ${this.step}: ${heading} ${'─'.repeat(Math.max(3, 60 - heading.length))}`,
    );
  }

  /** Someone does something in Slack. */
  action(who: string, what: string): void {
    this.line(`\n  ${who} ${what}`);
  }

  note(text: string): void {
    this.line(indent(text, '  · '));
  }

  ok(text: string): void {
    this.line(`  ✔ ${text}`);
  }

  missing(text: string): void {
    this.line(`  ✘ ${text}`);
  }

  /** Who sees this call, in words. */
  audience(call: RecordedCall, actorId?: string): string {
    const args = call.args;
    const channel = String(args.channel ?? '');
    switch (call.method) {
      case 'chat.postMessage':
        return args.thread_ts ? `${this.channel(channel)} (in the thread)` : this.channel(channel);
      case 'chat.update':
        return `${this.channel(channel)} — the request message, updated in place`;
      case 'chat.postEphemeral':
        return `${this.channel(channel)} — only ${this.user(String(args.user))} sees this`;
      case 'response_url':
        return actorId
          ? `reply to ${this.user(actorId)}'s command — only ${this.user(actorId)} sees this`
          : 'reply to a command — only the person who typed it sees this';
      case 'views.open':
      case 'views.push':
      case 'views.update':
        return 'a modal window';
      case 'views.publish':
        return `App Home of ${this.user(String(args.user_id))}`;
      default:
        return call.method;
    }
  }

  /** Prints one Slack call as its audience sees it; an update shows only what changed. */
  slack(call: RecordedCall, actorId?: string): void {
    const view = call.args.view as { blocks?: unknown } | undefined;
    const body = renderMessage(view ?? call.args, this.names) || '(no text)';
    const key = messageKey(call);
    const before = call.method === 'chat.update' && key ? this.shown.get(key) : undefined;
    if (key) this.shown.set(key, body);
    if (before === undefined) {
      this.line(`\n  ┌─ ${this.audience(call, actorId)}`);
      this.line(indent(body, '  │ '));
      this.line('  └─');
      return;
    }
    const old = new Set(before.split('\n'));
    const now = body.split('\n');
    const current = new Set(now);
    this.line(`\n  ┌─ ${this.audience(call, actorId)} (+ new line, − line gone)`);
    for (const line of now) if (!old.has(line)) this.line(indent(line, '  │ + '));
    for (const line of before.split('\n')) if (!current.has(line)) this.line(indent(line, '  │ − '));
    this.line('  └─');
  }
}

/** channel:ts of a message, so an update can be compared with what was shown before. */
function messageKey(call: RecordedCall): string | undefined {
  const channel = call.args.channel;
  if (call.method === 'chat.postMessage') {
    const ts = call.response?.ts;
    return ts ? `${String(channel)}:${String(ts)}` : undefined;
  }
  if (call.method === 'chat.update') return `${String(channel)}:${String(call.args.ts)}`;
  return undefined;
}
