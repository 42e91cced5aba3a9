/**
 * A small local fake of the Slack Web API. Records every call (method and arguments), answers
 * the way Slack does for the methods the bot uses, and can be told to answer 429 with
 * Retry-After, or an error, for a method. Point SLACK_API_URL at `fake.apiUrl`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  token?: string;
  at: number;
  /** What the fake answered (for chat.postMessage: the ts of the new message). */
  response?: Record<string, unknown>;
}

export interface FakeSlackUser {
  id: string;
  name?: string;
  real_name?: string;
  email?: string;
  /** Slack's `is_email_confirmed`; left out unless a test sets it. */
  is_email_confirmed?: boolean;
  deleted?: boolean;
  is_bot?: boolean;
  is_restricted?: boolean;
  is_ultra_restricted?: boolean;
  tz?: string;
}

export type Failure = { status: 429; retryAfter: number } | { error: string } | { status: number };

function parseValue(value: string): unknown {
  if (/^\s*[[{]/.test(value)) {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  return value;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export class FakeSlack {
  readonly calls: RecordedCall[] = [];
  readonly users = new Map<string, FakeSlackUser>();
  readonly usergroups = new Map<string, string[]>();
  /** Channel id → member ids, for conversations.members (an unknown channel: channel_not_found). */
  readonly channelMembers = new Map<string, string[]>();
  private readonly failures = new Map<string, Failure[]>();
  private readonly delays = new Map<string, number>();
  private server?: Server;
  private tsCounter = 0;
  private waiters: Array<() => void> = [];
  origin = '';

  get apiUrl(): string {
    return `${this.origin}/api/`;
  }

  /** A response_url that records what Bolt's respond() sends, as method `response_url`. */
  responseUrl(id = 'r1'): string {
    return `${this.origin}/response/${id}`;
  }

  addUser(user: FakeSlackUser): this {
    this.users.set(user.id, { name: user.id.toLowerCase(), real_name: user.id, tz: 'UTC', ...user });
    return this;
  }

  setUsergroup(id: string, members: string[]): this {
    this.usergroups.set(id, members);
    return this;
  }

  /** The next `times` calls to `method` fail as described. */
  failNext(method: string, failure: Failure, times = 1): this {
    const queue = this.failures.get(method) ?? [];
    for (let i = 0; i < times; i++) queue.push(failure);
    this.failures.set(method, queue);
    return this;
  }

  /** Every later call to `method` is answered `ms` late (a slow Slack; 0 removes the delay). */
  delay(method: string, ms: number): this {
    this.delays.set(method, ms);
    return this;
  }

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  clearCalls(): void {
    this.calls.length = 0;
  }

  /** Resolves with the first call (existing or future) to `method` matching `predicate`. */
  async waitForCall(
    method: string,
    predicate: (call: RecordedCall) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<RecordedCall> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.calls.find((c) => c.method === method && predicate(c));
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) {
        const seen = this.calls.map((c) => c.method).join(', ') || 'none';
        throw new Error(`no ${method} call matched within ${timeoutMs} ms (calls seen: ${seen})`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        res.writeHead(500);
        res.end(String(error));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private record(call: RecordedCall): void {
    this.calls.push(call);
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((w) => w());
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    const text = await readBody(req);
    const type = req.headers['content-type'] ?? '';
    let args: Record<string, unknown> = {};
    if (type.includes('application/json')) {
      args = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } else {
      for (const [key, value] of new URLSearchParams(text)) args[key] = parseValue(value);
    }
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : (args.token as string | undefined);
    delete args.token;

    if (url.pathname.startsWith('/response/')) {
      this.record({ method: 'response_url', args, token, at: Date.now() });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true }));
      return;
    }
    const method = url.pathname.replace(/^\/api\//, '');
    const delayMs = this.delays.get(method) ?? 0;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const call: RecordedCall = { method, args, token, at: Date.now() };

    const failure = this.failures.get(method)?.shift();
    if (failure) {
      this.record(call);
      if ('retryAfter' in failure) {
        res.writeHead(429, { 'retry-after': String(failure.retryAfter), 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
      } else if ('error' in failure) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: false, error: failure.error }));
      } else {
        res.writeHead(failure.status);
        res.end('fake failure');
      }
      return;
    }
    call.response = this.answer(method, args);
    this.record(call);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(call.response));
  }

  private nextTs(): string {
    this.tsCounter += 1;
    return `1700000000.${String(this.tsCounter).padStart(6, '0')}`;
  }

  private answer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://test.slack.com/',
          team: 'Test',
          user: 'aws-access',
          team_id: 'T0TEST',
          user_id: 'U0BOT',
          bot_id: 'B0BOT',
        };
      case 'chat.postMessage': {
        const ts = this.nextTs();
        return { ok: true, channel: args.channel, ts, message: { ts, text: args.text, blocks: args.blocks } };
      }
      case 'chat.update':
        return { ok: true, channel: args.channel, ts: args.ts, text: args.text };
      case 'chat.postEphemeral':
        return { ok: true, message_ts: this.nextTs() };
      case 'chat.delete':
        return { ok: true, channel: args.channel, ts: args.ts };
      case 'views.open':
      case 'views.update':
      case 'views.push':
      case 'views.publish': {
        const view = (args.view ?? {}) as Record<string, unknown>;
        return { ok: true, view: { id: `V${this.nextTs().replace('.', '')}`, hash: 'h1', ...view } };
      }
      case 'users.info': {
        const user = this.users.get(String(args.user));
        if (!user) return { ok: false, error: 'user_not_found' };
        return {
          ok: true,
          user: {
            ...user,
            profile: { email: user.email, real_name: user.real_name, display_name: user.name },
          },
        };
      }
      case 'users.list': {
        // Cursor paging as Slack does it: `limit` per page (Slack caps it at 1,000; 0 or absent
        // means all), the cursor is opaque, and the last page has an empty next_cursor.
        const all = [...this.users.values()];
        const start = args.cursor ? Number(/^offset:(\d+)$/.exec(String(args.cursor))?.[1] ?? NaN) : 0;
        if (!Number.isInteger(start)) return { ok: false, error: 'invalid_cursor' };
        const limit = Math.min(Number(args.limit ?? 0) || all.length || 1, 1000);
        const page = all.slice(start, start + limit);
        const next = start + limit < all.length ? `offset:${start + limit}` : '';
        return {
          ok: true,
          members: page.map((u) => ({
            ...u,
            profile: { email: u.email, real_name: u.real_name, display_name: u.name },
          })),
          response_metadata: { next_cursor: next },
        };
      }
      case 'users.lookupByEmail': {
        const user = [...this.users.values()].find((u) => u.email === args.email);
        if (!user) return { ok: false, error: 'users_not_found' };
        return { ok: true, user: { ...user, profile: { email: user.email, real_name: user.real_name } } };
      }
      case 'usergroups.users.list': {
        const members = this.usergroups.get(String(args.usergroup));
        if (!members) return { ok: false, error: 'no_such_subteam' };
        return { ok: true, users: members };
      }
      case 'conversations.members': {
        const all = this.channelMembers.get(String(args.channel));
        if (!all) return { ok: false, error: 'channel_not_found' };
        const start = args.cursor ? Number(/^offset:(\d+)$/.exec(String(args.cursor))?.[1] ?? NaN) : 0;
        if (!Number.isInteger(start)) return { ok: false, error: 'invalid_cursor' };
        const limit = Math.min(Number(args.limit ?? 0) || 100, 1000);
        const next = start + limit < all.length ? `offset:${start + limit}` : '';
        return {
          ok: true,
          members: all.slice(start, start + limit),
          response_metadata: { next_cursor: next },
        };
      }
      case 'conversations.open': {
        const users = String(args.users ?? '');
        return { ok: true, channel: { id: `D${users.split(',')[0]}` } };
      }
      default:
        return { ok: true };
    }
  }
}

export async function startFakeSlack(): Promise<FakeSlack> {
  return new FakeSlack().start();
}
