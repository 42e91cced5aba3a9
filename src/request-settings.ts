/**
 * What the request use cases and the request store are given from the config: rules with their
 * account references resolved to ids, duration limits, identities and groups; the store's
 * open-request limit and retention. Used by main.ts's wiring (and by tests and benches that build
 * the same pieces).
 */
import type { AppConfig } from './config/schema.js';
import { resolveAccountRef } from './domain/approval-policy.js';
import type { RequestSettings } from './domain/request-service.js';
import type { RequestStoreOptions } from './store/request-store.js';

/**
 * Rules match accounts by id: the names and aliases the config gives its accounts are resolved
 * here (the schema already refused references that name no configured account).
 */
export function requestSettings(config: AppConfig): RequestSettings {
  const refs = config.aws.accounts;
  const ids = (list: readonly string[]) => list.flatMap((ref) => resolveAccountRef(ref, refs) ?? []);
  const rules = config.approval.rules.map((rule) => {
    const resolved = rule.match.accounts
      ? { ...rule, match: { ...rule.match, accounts: ids(rule.match.accounts) } }
      : rule;
    return rule.onCallAutoApprove
      ? {
          ...resolved,
          onCallAutoApprove: { ...rule.onCallAutoApprove, accounts: ids(rule.onCallAutoApprove.accounts) },
        }
      : resolved;
  });
  return {
    rules,
    accountRefs: refs,
    limits: {
      min: config.durations.min,
      max: config.durations.max,
      maxExtensions: config.durations.maxExtensions,
      maxTotal: config.durations.maxTotal,
      expiryWarning: config.durations.expiryWarning,
    },
    identities: config.identities,
    requesterGroups: config.slack.requesterGroups,
    adminGroups: config.slack.adminGroups,
    region: config.aws.region,
    maxAccountsPerRequest: config.requests.maxAccountsPerRequest,
  };
}

/** The store's limits: open requests per person (checked atomically at create) and retention. */
export function requestStoreOptions(config: AppConfig): RequestStoreOptions {
  return {
    maxOpenPerRequester: config.requests.maxOpenPerRequester,
    retainFinishedSeconds: config.requests.retainFinished,
  };
}
