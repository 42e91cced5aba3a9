/**
 * Opsgenie: who is on call now on a schedule.
 * `GET /v2/schedules/{identifier}/on-calls?scheduleIdentifierType=id|name&flat=true` with
 * `Authorization: GenieKey <key>`. With `flat=true` the answer's `data.onCallRecipients` is the
 * list of the on-call users' usernames, which in Opsgenie are their e-mail addresses. A schedule
 * given as a UUID is looked up by id, anything else by name.
 */
import type { OnCallAnswer } from '../domain/on-call.js';
import { getJson, type ProviderCallOptions } from './provider-http.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function opsgenieOnCallsUrl(apiUrl: string, schedule: string): URL {
  const base = apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`;
  const url = new URL(`v2/schedules/${encodeURIComponent(schedule)}/on-calls`, base);
  url.searchParams.set('scheduleIdentifierType', UUID.test(schedule) ? 'id' : 'name');
  url.searchParams.set('flat', 'true');
  return url;
}

export function parseOpsgenieOnCalls(body: unknown): OnCallAnswer {
  const recipients = (body as { data?: { onCallRecipients?: unknown } } | null)?.data?.onCallRecipients;
  if (!Array.isArray(recipients)) {
    return { ok: false, reason: 'Opsgenie answered without data.onCallRecipients' };
  }
  const emails = recipients
    .filter((r): r is string => typeof r === 'string' && r.includes('@'))
    .map((r) => r.trim().toLowerCase());
  return { ok: true, emails: [...new Set(emails)] };
}

export async function opsgenieOnCallNow(
  apiUrl: string,
  key: string,
  schedule: string,
  options: ProviderCallOptions,
): Promise<OnCallAnswer> {
  const answer = await getJson(
    'Opsgenie',
    opsgenieOnCallsUrl(apiUrl, schedule),
    {
      Authorization: `GenieKey ${key}`,
      Accept: 'application/json',
    },
    options,
  );
  return answer.ok ? parseOpsgenieOnCalls(answer.body) : answer;
}
