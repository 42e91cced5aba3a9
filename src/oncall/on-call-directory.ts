/**
 * The on-call port's adapter: PagerDuty and Opsgenie behind one `onCallNow`, answers cached per
 * provider and schedule.
 *
 * The cache is in-process, not Redis: an answer is a minute old at most either way, each process
 * asks each schedule at most once a minute (a handful of calls), and an answer about who may
 * approve never sits where someone who can write Redis could edit it. Only answers are cached; a
 * failure is not, so the next click asks again. Concurrent look-ups of one schedule share one call.
 */
import type { OnCallAnswer, OnCallDirectory, OnCallProvider, OnCallSchedule } from '../domain/on-call.js';
import { providerName } from '../domain/on-call.js';
import type { Clock } from '../domain/ports.js';
import { opsgenieOnCallNow } from './opsgenie.js';
import { pagerdutyOnCallNow } from './pagerduty.js';
import type { ProviderCallOptions } from './provider-http.js';

export interface OnCallDirectoryOptions {
  apiUrls: Record<OnCallProvider, string>;
  /** API tokens by provider; a provider without one answers "unavailable". */
  tokens: Partial<Record<OnCallProvider, string>>;
  /** Seconds an answer is reused. */
  cacheForSeconds: number;
  call: ProviderCallOptions;
  clock: Clock;
  /** Told about each failed look-up (never with the token). */
  onFailure?: (schedule: OnCallSchedule, reason: string) => void;
}

export class CachedOnCallDirectory implements OnCallDirectory {
  private readonly answers = new Map<string, { at: number; emails: readonly string[] }>();
  private readonly inFlight = new Map<string, Promise<OnCallAnswer>>();

  constructor(private readonly options: OnCallDirectoryOptions) {}

  async onCallNow(schedule: OnCallSchedule): Promise<OnCallAnswer> {
    const key = `${schedule.provider}\u0000${schedule.schedule}`;
    const now = this.options.clock.now();
    const cached = this.answers.get(key);
    if (cached && now - cached.at < this.options.cacheForSeconds * 1000) {
      return { ok: true, emails: cached.emails };
    }
    const running = this.inFlight.get(key);
    if (running) return running;
    const call = this.ask(schedule, now)
      .catch((error: unknown): OnCallAnswer => ({ ok: false, reason: (error as Error).message }))
      .then((answer) => {
        if (answer.ok) this.answers.set(key, { at: now, emails: answer.emails });
        else this.options.onFailure?.(schedule, answer.reason);
        return answer;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, call);
    return call;
  }

  private ask(schedule: OnCallSchedule, now: number): Promise<OnCallAnswer> {
    const { apiUrls, tokens, call } = this.options;
    const token = tokens[schedule.provider];
    if (!token) {
      return Promise.resolve({
        ok: false,
        reason: `no ${providerName(schedule.provider)} API token configured`,
      });
    }
    return schedule.provider === 'pagerduty'
      ? pagerdutyOnCallNow(apiUrls.pagerduty, token, schedule.schedule, now, call)
      : opsgenieOnCallNow(apiUrls.opsgenie, token, schedule.schedule, call);
  }
}
