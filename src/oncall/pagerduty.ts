/**
 * PagerDuty REST API v2: who is on call now on a schedule.
 * `GET /oncalls?schedule_ids[]=ID&include[]=users&since=…&until=…` with
 * `Authorization: Token token=<key>` and `Accept: application/vnd.pagerduty+json;version=2`.
 * With `include[]=users` each entry's `user` is the full user, e-mail included (otherwise only a
 * reference, and each user would cost a `/users/{id}` call). Only entries of this very schedule
 * whose shift covers now count (an entry with `end: null` is on call indefinitely).
 */
import type { OnCallAnswer } from '../domain/on-call.js';
import { getJson, type ProviderCallOptions } from './provider-http.js';

interface PagerDutyOnCall {
  user?: { email?: unknown };
  schedule?: { id?: unknown } | null;
  start?: unknown;
  end?: unknown;
}

export function pagerdutyOnCallsUrl(apiUrl: string, scheduleId: string, now: number): URL {
  const url = new URL('oncalls', apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`);
  url.searchParams.append('schedule_ids[]', scheduleId);
  url.searchParams.append('include[]', 'users');
  url.searchParams.set('since', new Date(now).toISOString());
  url.searchParams.set('until', new Date(now + 1000).toISOString());
  url.searchParams.set('limit', '100');
  return url;
}

/** The e-mails of whoever is on call now on the schedule, from a `/oncalls` answer. */
export function parsePagerDutyOnCalls(body: unknown, scheduleId: string, now: number): OnCallAnswer {
  const oncalls = (body as { oncalls?: unknown } | null)?.oncalls;
  if (!Array.isArray(oncalls)) return { ok: false, reason: 'PagerDuty answered without an oncalls list' };
  const emails = new Set<string>();
  for (const entry of oncalls as PagerDutyOnCall[]) {
    if (entry?.schedule?.id !== scheduleId) continue;
    const start = typeof entry.start === 'string' ? Date.parse(entry.start) : NaN;
    const end = entry.end === null ? Infinity : typeof entry.end === 'string' ? Date.parse(entry.end) : NaN;
    if (!(start <= now && now < end)) continue;
    const email = entry.user?.email;
    if (typeof email === 'string' && email.includes('@')) emails.add(email.trim().toLowerCase());
  }
  return { ok: true, emails: [...emails] };
}

export async function pagerdutyOnCallNow(
  apiUrl: string,
  token: string,
  scheduleId: string,
  now: number,
  options: ProviderCallOptions,
): Promise<OnCallAnswer> {
  const answer = await getJson(
    'PagerDuty',
    pagerdutyOnCallsUrl(apiUrl, scheduleId, now),
    {
      Authorization: `Token token=${token}`,
      Accept: 'application/vnd.pagerduty+json;version=2',
    },
    options,
  );
  return answer.ok ? parsePagerDutyOnCalls(answer.body, scheduleId, now) : answer;
}
