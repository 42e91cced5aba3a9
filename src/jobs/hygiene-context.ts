/**
 * What every hygiene job needs, built once per worker process.
 */
import { WebClient } from '@slack/web-api';
import type { AccountClients } from '../aws/account-clients.js';
import type { CredentialReportOptions } from '../aws/credential-report.js';
import type { EnvOptions } from '../config/env.js';
import type { AppConfig } from '../config/schema.js';
import type { HygieneThresholds } from '../domain/hygiene/types.js';
import type { Clock } from '../domain/ports.js';
import { MissingSettingError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { HygieneAuditEvent, HygieneStore } from '../store/hygiene-store.js';

export interface HygieneContext {
  config: AppConfig;
  store: HygieneStore;
  accounts: AccountClients;
  slack: WebClient;
  logger: Logger;
  clock: Clock;
  /** The accounts the daily sweep covers. */
  listAccountIds: () => Promise<string[]>;
  /** Stores, logs and forwards one audit event. */
  audit: (event: Omit<HygieneAuditEvent, 'at'>) => Promise<void>;
  /** Waits out a rate-limited Slack directory page; tests shorten it. */
  sleep?: (ms: number) => Promise<void>;
  /** Test hooks for the report poll (sleep, backoff). */
  reportOptions?: Partial<Omit<CredentialReportOptions, 'logger' | 'clock'>>;
}

/**
 * Slack from jobs: a 429 is rejected at once instead of waited out inside the job, so BullMQ's
 * backoff retries the job; the client's own retries cover only brief network errors.
 */
export function createJobSlackClient(env: EnvOptions): WebClient {
  if (!env.slackBotToken)
    throw new MissingSettingError('SLACK_BOT_TOKEN', 'hygiene jobs send DMs and reports');
  return new WebClient(env.slackBotToken, {
    ...(env.slackApiUrl ? { slackApiUrl: env.slackApiUrl } : {}),
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 2000 },
  });
}

export function thresholds(config: AppConfig): HygieneThresholds {
  const h = config.hygiene;
  return {
    unusedKeyDays: h.unusedKeyDays,
    rotationDays: h.rotationDays,
    unusedPasswordDays: h.unusedPasswordDays,
    passwordPolicy: h.passwordPolicy,
  };
}

export function accountNames(config: AppConfig): Map<string, string> {
  return new Map(config.aws.accounts.filter((a) => a.name).map((a) => [a.id, a.name!]));
}
