/**
 * One factory for everything AWS, for src/main.ts and the CLI: broker sessions
 * (AccountClients), the account directory, the template catalog and the grant engine.
 */
import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { STSClient } from '@aws-sdk/client-sts';
import type { Redis } from 'ioredis';
import type { EnvOptions } from '../config/env.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { Clock } from '../domain/ports.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../logger.js';
import type { BoundaryTemplateCatalog } from '../templates/load-templates.js';
import { loadTemplates, templatesDirectory } from '../templates/load-templates.js';
import { partitionOf } from '../templates/policy-variables.js';
import { AccountCallLimits } from './account-call-limits.js';
import { OrganizationsAccountDirectory } from './account-directory.js';
import { clientConfig, countCalls, GLOBAL_REGION, type AwsSettings } from './aws-clients.js';
import { BotIdentity } from './bot-identity.js';
import { AssignmentHolders } from '../store/assignment-holders.js';
import { BrokerSessions } from './broker-sessions.js';
import { GrantBackends } from './grant-backends.js';
import { RoleGrantEngine } from './grants/role-grant-engine.js';
import { ScpEffectiveAccess } from './scp-effective-access.js';
import { EffectiveAccessCache } from '../store/effective-access-cache.js';
import { IdentityCenterGrantEngine } from './identity-center/identity-center-engine.js';
import type { PollOptions } from './identity-center/operation-status.js';

export interface AwsServicesOptions {
  env: EnvOptions;
  loaded: LoadedConfig;
  redis: Redis;
  logger: Logger;
  metrics?: Metrics;
  clock: Clock;
  /** Already loaded templates (the CLI's validate loads them itself). */
  templates?: BoundaryTemplateCatalog;
  /** Tests: do not really wait for IAM consistency. */
  sleep?: (ms: number) => Promise<void>;
  /** Tests: attempts per AWS call (default 5). */
  maxAttempts?: number;
  /** Tests: how Identity Center operations are polled (default: real waits, 120 s timeout). */
  identityCenterPoll?: PollOptions;
}

export interface AwsServices {
  accountClients: BrokerSessions;
  /** Sessions on the boundary-writer role: the only ones that write boundary policies. */
  boundaryClients: BrokerSessions;
  botIdentity: BotIdentity;
  accounts: OrganizationsAccountDirectory;
  templates: BoundaryTemplateCatalog;
  /** The grant engine the bot uses: each grant goes to its backend (grant-backends.ts). */
  grants: GrantBackends;
  /** The iam-role backend itself (boundary and role names for tests and tools). */
  roleGrants: RoleGrantEngine;
  /** The identity-center backend, when `aws.identityCenter` is configured. */
  identityCenter?: IdentityCenterGrantEngine;
  /** What SCPs leave of a template in an account; with Organizations discovery only. */
  effectiveAccess?: ScpEffectiveAccess;
}

function awsSettings(env: EnvOptions, maxAttempts = 5): AwsSettings {
  return { region: env.awsRegion, endpoint: env.awsEndpointUrl, maxAttempts };
}

/** The broker session cache alone: what the hygiene CLI and jobs need from AWS. */
export function createBrokerSessions(options: {
  env: EnvOptions;
  config: LoadedConfig['config'];
  clock: Clock;
  metrics?: Metrics;
  maxAttempts?: number;
  /** Another role of the StackSet (the boundary writer); default the broker. */
  roleName?: string;
  /** Shared by every session cache of the process; default one built from `aws.concurrency`. */
  limits?: AccountCallLimits;
}): BrokerSessions {
  const { env, config, metrics } = options;
  const settings = awsSettings(env, options.maxAttempts);
  return new BrokerSessions({
    settings,
    partition: partitionOf(env.awsRegion),
    brokerRoleName: options.roleName ?? config.aws.brokerRoleName,
    externalId: config.aws.brokerExternalId,
    sessionSeconds: config.aws.brokerSessionDuration,
    baseSts: countCalls(new STSClient(clientConfig(settings)), metrics),
    clock: options.clock,
    metrics,
    limits: options.limits ?? accountCallLimits(config),
  });
}

/** The per-account IAM call limits of `aws.concurrency`. */
export function accountCallLimits(config: LoadedConfig['config']): AccountCallLimits {
  const { perAccount, callsPerSecond } = config.aws.concurrency;
  return new AccountCallLimits({ perAccount, callsPerSecond });
}

/** Loads and validates the templates (throws ConfigError naming file and field) and builds the adapters. */
export async function createAwsServices(options: AwsServicesOptions): Promise<AwsServices> {
  const { env, loaded, redis, logger, metrics } = options;
  const config = loaded.config;
  const clock = options.clock;
  const settings = awsSettings(env, options.maxAttempts);
  const partition = partitionOf(env.awsRegion);
  const templates = options.templates ?? (await loadTemplates(templatesDirectory(loaded)));

  // One pace per account for both roles: IAM throttles the account, not the role.
  const limits = accountCallLimits(config);
  const accountClients = createBrokerSessions({
    env,
    config,
    clock,
    metrics,
    maxAttempts: options.maxAttempts,
    limits,
  });

  const boundaryClients = createBrokerSessions({
    env,
    config,
    clock,
    metrics,
    maxAttempts: options.maxAttempts,
    roleName: config.aws.boundaryWriterRoleName,
    limits,
  });
  const botIdentity = new BotIdentity(countCalls(new STSClient(clientConfig(settings)), metrics));
  const hideBotAccount = !config.aws.allowGrantsInBotAccount;

  const org = config.aws.organizations;
  const organizations = org.enabled
    ? countCalls(new OrganizationsClient(clientConfig(settings, { region: GLOBAL_REGION })), metrics)
    : undefined;
  const accounts = new OrganizationsAccountDirectory({
    organizations,
    redis,
    cacheKey: `${config.redis.prefix}:aws:accounts`,
    cacheTtlSeconds: org.cacheTtl,
    pageSize: org.pageSize,
    staticAccounts: config.aws.accounts,
    logger,
    ...(hideBotAccount ? { hiddenAccountId: () => botIdentity.accountId() } : {}),
  });

  const roleGrants = new RoleGrantEngine({
    clients: accountClients,
    boundaryClients,
    botAccountId: () => botIdentity.accountId(),
    allowGrantsInBotAccount: config.aws.allowGrantsInBotAccount,
    templates,
    partition,
    region: config.aws.region,
    brokerRoleName: config.aws.brokerRoleName,
    delivery: config.aws.delivery,
    federationEndpoint: config.aws.federationEndpoint,
    consoleUrl: config.aws.consoleUrl,
    clock,
    logger,
    sleep: options.sleep,
  });

  const ic = config.aws.identityCenter;
  const holders = ic ? new AssignmentHolders(redis, config.redis.prefix) : undefined;
  const identityCenter =
    ic && holders
      ? new IdentityCenterGrantEngine({
          ssoAdmin: countCalls(new SSOAdminClient(clientConfig(settings, { region: ic.region })), metrics),
          identitystore: countCalls(
            new IdentitystoreClient(clientConfig(settings, { region: ic.region })),
            metrics,
          ),
          instanceArn: ic.instanceArn,
          identityStoreId: ic.identityStoreId,
          instanceRegion: ic.region,
          accessPortalUrl: ic.accessPortalUrl ?? `https://${ic.identityStoreId}.awsapps.com/start`,
          region: config.aws.region,
          partition,
          brokerRoleName: config.aws.brokerRoleName,
          templates,
          holders,
          userNames: new Map(
            Object.entries(config.identities.map).flatMap(([slackId, entry]) =>
              entry.identityCenterUserName ? [[slackId, entry.identityCenterUserName] as const] : [],
            ),
          ),
          ensureBoundary: async (accountId, template) =>
            roleGrants.ensureBoundary(await boundaryClients.iam(accountId), accountId, template),
          clock,
          logger: logger.child({ backend: 'identity-center' }),
          ...(options.identityCenterPoll ? { poll: options.identityCenterPoll } : {}),
        })
      : undefined;
  // What SCPs leave of a template in an account: the same Organizations client (management
  // account credentials), both grant backends alike.
  const effectiveAccess = organizations
    ? new ScpEffectiveAccess({
        organizations,
        cache: new EffectiveAccessCache(redis, config.redis.prefix, org.cacheTtl),
        templates,
        clock,
        pageSize: org.pageSize,
        logger,
      })
    : undefined;

  const grants = new GrantBackends({
    roles: roleGrants,
    identityCenter,
    holders,
    settings: config.aws,
  });

  return {
    accountClients,
    boundaryClients,
    botIdentity,
    accounts,
    templates,
    grants,
    roleGrants,
    ...(identityCenter ? { identityCenter } : {}),
    ...(effectiveAccess ? { effectiveAccess } : {}),
  };
}
