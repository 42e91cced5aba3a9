/**
 * A local fake of the two on-call APIs on loopback, answering as the real ones do:
 * - PagerDuty REST API v2 `GET /oncalls` (`Authorization: Token token=<key>`, `Accept:
 *   application/vnd.pagerduty+json;version=2`, `schedule_ids[]`, `since`/`until`, and users with
 *   their e-mail only under `include[]=users`, otherwise references);
 * - Opsgenie `GET /v2/schedules/{identifier}/on-calls` (`Authorization: GenieKey <key>`,
 *   `scheduleIdentifierType=id|name`, and `data.onCallRecipients` only with `flat=true`).
 * A wrong key is a 401, an unknown schedule a 404 (as the real ones). Each provider can be made
 * to answer 500 or to never answer (a timeout), and every call is recorded.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const FAKE_PAGERDUTY_TOKEN = 'pd-test-token-0000';
export const FAKE_OPSGENIE_KEY = 'og-test-key-0000';

export type OnCallProviderName = 'pagerduty' | 'opsgenie';
export type FakeFailure = { status: number } | 'timeout';

export interface OnCallCall {
  provider: OnCallProviderName;
  path: string;
  query: URLSearchParams;
  status: number | 'timeout';
}

interface OpsgenieSchedule {
  id: string;
  name: string;
  emails: string[];
}

export class FakeOnCall {
  readonly calls: OnCallCall[] = [];
  private server?: Server;
  private origin = '';
  private readonly pagerduty = new Map<string, string[]>();
  private readonly opsgenie: OpsgenieSchedule[] = [];
  private readonly failures = new Map<OnCallProviderName, FakeFailure>();

  get pagerdutyUrl(): string {
    return `${this.origin}/pagerduty`;
  }
  get opsgenieUrl(): string {
    return `${this.origin}/opsgenie`;
  }

  /** Who is on call now on a PagerDuty schedule (replaces the earlier list). */
  setPagerDuty(scheduleId: string, emails: string[]): void {
    this.pagerduty.set(scheduleId, emails);
  }

  setOpsgenie(schedule: { id: string; name: string }, emails: string[]): void {
    const i = this.opsgenie.findIndex((s) => s.id === schedule.id);
    if (i >= 0) this.opsgenie.splice(i, 1);
    this.opsgenie.push({ ...schedule, emails });
  }

  /** From now on the provider answers with this status, or not at all; undefined heals it. */
  fail(provider: OnCallProviderName, failure: FakeFailure | undefined): void {
    if (failure) this.failures.set(provider, failure);
    else this.failures.delete(provider);
  }

  callsTo(provider: OnCallProviderName): OnCallCall[] {
    return this.calls.filter((c) => c.provider === provider);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.origin);
    const provider: OnCallProviderName | undefined = url.pathname.startsWith('/pagerduty/')
      ? 'pagerduty'
      : url.pathname.startsWith('/opsgenie/')
        ? 'opsgenie'
        : undefined;
    if (!provider || req.method !== 'GET') return json(res, 404, { error: 'not found' });
    const path = url.pathname.slice(provider.length + 1);
    const call: OnCallCall = { provider, path, query: url.searchParams, status: 0 };
    this.calls.push(call);
    const failure = this.failures.get(provider);
    if (failure === 'timeout') {
      call.status = 'timeout';
      return; // never answered; stop() closes the connection
    }
    const [status, body] = failure
      ? [failure.status, { error: 'fake failure' }]
      : provider === 'pagerduty'
        ? this.pagerdutyAnswer(req, path, url.searchParams)
        : this.opsgenieAnswer(req, path, url.searchParams);
    call.status = status;
    json(res, status, body);
  }

  private pagerdutyAnswer(req: IncomingMessage, path: string, query: URLSearchParams): [number, unknown] {
    if (req.headers.authorization !== `Token token=${FAKE_PAGERDUTY_TOKEN}`) {
      return [401, { error: { message: 'Unauthorized', code: 2006 } }];
    }
    if (req.headers.accept !== 'application/vnd.pagerduty+json;version=2') {
      return [406, { error: { message: 'Not Acceptable' } }];
    }
    if (path !== '/oncalls') return [404, { error: { message: 'Not Found' } }];
    const since = query.get('since');
    const until = query.get('until');
    if ((since && Number.isNaN(Date.parse(since))) || (until && Number.isNaN(Date.parse(until)))) {
      return [400, { error: { message: 'Invalid Input Provided', errors: ['since/until'] } }];
    }
    const from = since ? Date.parse(since) : Date.now();
    const to = until ? Date.parse(until) : from;
    const withUsers = query.getAll('include[]').includes('users');
    const oncalls = query.getAll('schedule_ids[]').flatMap((id) =>
      (this.pagerduty.get(id) ?? []).map((email, n) => ({
        escalation_policy: { id: 'PEP0001', type: 'escalation_policy_reference' },
        escalation_level: 1,
        schedule: { id, type: 'schedule_reference', summary: `schedule ${id}` },
        user: withUsers
          ? { id: `PU${n}`, type: 'user', name: email, email }
          : { id: `PU${n}`, type: 'user_reference', summary: email },
        start: new Date(from - 3_600_000).toISOString(),
        end: new Date(to + 3_600_000).toISOString(),
      })),
    );
    return [200, { oncalls, limit: 25, offset: 0, more: false, total: null }];
  }

  private opsgenieAnswer(req: IncomingMessage, path: string, query: URLSearchParams): [number, unknown] {
    if (req.headers.authorization !== `GenieKey ${FAKE_OPSGENIE_KEY}`) {
      return [401, { message: 'Could not authenticate', took: 0.001, requestId: 'fake' }];
    }
    const match = /^\/v2\/schedules\/([^/]+)\/on-calls$/.exec(path);
    if (!match) return [404, { message: 'Not found', took: 0.001, requestId: 'fake' }];
    const identifier = decodeURIComponent(match[1]!);
    const type = query.get('scheduleIdentifierType') ?? 'id';
    const schedule = this.opsgenie.find((s) => (type === 'name' ? s.name : s.id) === identifier);
    if (!schedule || (type !== 'id' && type !== 'name')) {
      return [
        404,
        { message: `No schedule exists with ${type} [${identifier}]`, took: 0.001, requestId: 'fake' },
      ];
    }
    const data =
      query.get('flat') === 'true'
        ? {
            _parent: { id: schedule.id, name: schedule.name, enabled: true },
            onCallRecipients: schedule.emails,
          }
        : {
            _parent: { id: schedule.id, name: schedule.name, enabled: true },
            onCallParticipants: schedule.emails.map((e) => ({ id: `u-${e}`, name: e, type: 'user' })),
          };
    return [200, { data, took: 0.01, requestId: 'fake' }];
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startFakeOnCall(): Promise<FakeOnCall> {
  return new FakeOnCall().start();
}
