/**
 * What every hygiene job needs, built once per worker process: the domain's `HygieneDeps`
 * (Redis store, IAM reader and key actions, the Slack adapters the caller passes in) plus the
 * config and the accounts to sweep.
 */
import type { AccountClients } from '../aws/account-clients.js';
import type { CredentialReportOptions } from '../aws/credential-report.js';
import { awsKeyActions } from '../aws/hygiene-actions.js';
import { awsCredentialReader } from '../aws/hygiene-reader.js';
import type { AppConfig } from '../config/schema.js';
import { hygieneAuditor } from '../domain/hygiene/audit.js';
import type { HygieneAuditEvent, HygieneDeps, HygieneSettings } from '../domain/hygiene/ports.js';
import type { HygieneThresholds } from '../domain/hygiene/types.js';
import type { Clock } from '../domain/ports.js';
import type { Logger } from '../logger.js';
import type { HygieneStore } from '../store/hygiene-store.js';

export interface HygieneContext extends HygieneDeps {
  config: AppConfig;
  /** The Redis store (its `readAudit` and `key` serve tests and operators). */
  store: HygieneStore;
  logger: Logger;
  /** The accounts the daily sweep covers. */
  listAccountIds: () => Promise<string[]>;
}

export interface HygieneContextInput {
  config: AppConfig;
  store: HygieneStore;
  logger: Logger;
  accounts: AccountClients;
  /** The Slack side, built by the caller (`slackHygieneAdapters`). */
  notifier: HygieneDeps['notifier'];
  people: HygieneDeps['people'];
  clock: Clock;
  /** Forwards each audit event, e.g. to the hash-chained audit log. */
  audit?: (event: HygieneAuditEvent) => Promise<void>;
  /** Default: config aws.accounts. */
  listAccountIds?: () => Promise<string[]>;
  /** Test hooks for the report poll (sleep, backoff). */
  reportOptions?: Partial<Omit<CredentialReportOptions, 'logger' | 'clock'>>;
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

export function hygieneSettings(config: AppConfig): HygieneSettings {
  const h = config.hygiene;
  return {
    mode: h.mode,
    thresholds: thresholds(config),
    gracePeriodDays: h.gracePeriodDays,
    enforceUnowned: h.enforceUnowned,
    escalateAfterDays: h.escalateAfterDays,
    timeZone: config.schedules.timezone,
    identityMap: config.identities.map,
  };
}

export function createHygieneContext(input: HygieneContextInput): HygieneContext {
  const clock = input.clock;
  const logger = input.logger.child({ component: 'hygiene' });
  return {
    config: input.config,
    store: input.store,
    notifier: input.notifier,
    people: input.people,
    reader: awsCredentialReader(input.accounts, { logger, clock, ...input.reportOptions }),
    keys: awsKeyActions(input.accounts),
    audit: hygieneAuditor(input.store, logger, clock, input.audit),
    clock,
    log: logger,
    logger,
    settings: hygieneSettings(input.config),
    listAccountIds: input.listAccountIds ?? (async () => input.config.aws.accounts.map((a) => a.id)),
  };
}
