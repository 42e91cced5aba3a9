/**
 * Wiring: config → adapters → domain services → Slack app, workers, HTTP server.
 * Owns graceful shutdown: stop taking Slack requests, close workers and queues, quit Redis.
 */
import { ruleNamed } from './domain/requests/context.js';
import { ROLE_STATES } from './domain/model/state.js';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { WebClient } from '@slack/web-api';
import type { WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { EffectiveAccessReader } from './domain/effective-access.js';
import type { EnvOptions } from './config/env.js';
import { breakGlassIssues } from './config/break-glass-checks.js';
import { grantBackendIssues } from './config/grant-backends.js';
import { onCallTokenIssues } from './config/on-call-checks.js';
import { hmacKeysFrom, type HmacKeys } from './config/hmac-keys.js';
import { loadConfig, type LoadedConfig } from './config/load-config.js';
import type { AccountDirectory, Clock, GrantEngine, TemplateCatalog } from './domain/ports.js';
import type { DeferNotification } from './domain/request-ports.js';
import { systemClock } from './clock.js';
import { RequestService } from './domain/request-service.js';
import { staticAccountDirectory } from './domain/static-catalogs.js';
import { ConfigError, MissingSettingError } from './errors.js';
import type { AccountClients } from './aws/account-clients.js';
import { createAwsServices } from './aws/create-aws-services.js';
import { createAnchorS3Client, S3AuditAnchors } from './aws/audit-anchor.js';
import { hygieneAuditToAuditEvent } from './jobs/hygiene-audit.js';
import { register as registerHygieneListeners, slackHygieneAdapters } from './slack/hygiene/index.js';
import {
  register as registerPostureListeners,
  SlackChangeAlertNotifier,
  SlackPostureNotifier,
} from './slack/posture/index.js';
import { partitionOf } from './templates/policy-variables.js';
import { closeServer, createHttpServer, listen } from './http/server.js';
import { countTransitions, createMetrics, type Metrics } from './http/metrics.js';
import { RedisReplayGuard } from './http/replay-guard.js';
import { BullRequestScheduler } from './jobs/approval-scheduler.js';
import { auditBatchScheduler } from './jobs/audit-batches.js';
import { deferNotifications } from './jobs/deferred-notifications.js';
import { BullIntakeQueue } from './jobs/intake-worker.js';
import { producerConnectionOptions, Queues } from './jobs/queues.js';
import { limitRevocations, RevocationLimiter } from './jobs/revocation-limiter.js';
import { within, type Closable } from './jobs/runtime.js';
import { startWorkerRole } from './jobs/worker-role.js';
import type { Logger } from './logger.js';
import { SlackIntakeReplies } from './slack/intake-replies.js';
import { createOnCallDirectory } from './oncall/create-on-call-directory.js';
import { createSlackApp, type SlackApp } from './slack/slack-app.js';
import { registerListeners } from './slack/listeners/index.js';
import { createListenerRouter } from './slack/listener-router.js';
import { SlackAuditChannel } from './slack/slack-audit-channel.js';
import { createSlackClient } from './slack/slack-client.js';
import { SlackNotifier } from './slack/slack-notifier.js';
import { SlackPeople } from './slack/slack-people.js';
import { RedisAuditLog } from './store/audit-log.js';
import { createRedis, pingWithTimeout, redisTarget } from './store/redis-connection.js';
import { hmacRecordSigner } from './store/record-signer.js';
import { RedisRequestGroupStore } from './store/request-groups.js';
import { RedisRequestStore } from './store/request-store.js';
import { requestSettings, requestStoreOptions } from './request-settings.js';

export type ServiceRole = 'web' | 'worker' | 'all';

/** The AWS side, injected by whoever builds it (createAwsServices) or by tests. */
export interface ServiceAdapters {
  grants?: GrantEngine;
  accounts?: AccountDirectory;
  templates?: TemplateCatalog;
  /** Broker sessions per account; hygiene needs them. */
  accountClients?: AccountClients;
  /** What SCPs leave of a template in an account; `refresh` runs on reconcile's schedule. */
  effectiveAccess?: EffectiveAccessReader & { refresh?: () => Promise<unknown> };
}

export interface ServiceOptions {
  env: EnvOptions;
  role: ServiceRole;
  logger: Logger;
  /** Already loaded config; otherwise read from env.configPath. */
  loaded?: LoadedConfig;
  /** Host to bind; defaults to all interfaces. */
  host?: string;
  adapters?: ServiceAdapters;
  clock?: Clock;
  /** Tuning for the grants and reconcile workers (lock duration, stalled interval). */
  workerOptions?: Partial<WorkerOptions>;
  /** Default true: upsert the reconcile Job Scheduler at start. */
  scheduleReconcile?: boolean;
  /** Bounds of `stop()`; see ShutdownOptions. */
  shutdown?: Partial<ShutdownOptions>;
  /**
   * Web role only: run the intake worker (one-line requests after their ack) in this process
   * too, and no other worker. Default false: intake, like revocation, is the worker role's job,
   * and a web role started without any worker process creates no requests.
   */
  intakeInWebRole?: boolean;
}

/**
 * Graceful shutdown (SIGTERM). Everything happens within `timeoutMs` of the signal, which must
 * stay below the pod's terminationGracePeriodSeconds (the chart derives it from that).
 */
export interface ShutdownOptions {
  /** The whole shutdown, drain included; past it, work still running is cut off or released. */
  timeoutMs: number;
  /**
   * Web role, HTTP mode: how long to keep serving normally (with `/readyz` at 503) before the
   * listener closes, while the endpoint removal reaches kube-proxy and the load balancer.
   */
  drainMs: number;
}

export const DEFAULT_SHUTDOWN: ShutdownOptions = { timeoutMs: 25_000, drainMs: 0 };

export interface RunningService {
  port: number;
  server: Server;
  redis: Redis;
  metrics: Metrics;
  slack?: SlackApp;
  requests: RequestService;
  queues: Queues;
  audit: RedisAuditLog;
  /** Derived from AWS_ACCESS_HMAC_KEY; never written to Redis. */
  keys: HmacKeys;
  /** Worker role: the bounds on revocations in flight, and their attempt and throttle counts. */
  revocations?: RevocationLimiter;
  stop(): Promise<void>;
}

export function newRequestId(): string {
  return `r-${randomBytes(5).toString('hex')}`;
}

export async function startService(options: ServiceOptions): Promise<RunningService> {
  const { env, role, logger } = options;
  const loaded = options.loaded ?? (await loadConfig(env.configPath));
  const { config } = loaded;
  const clock = options.clock ?? systemClock;
  if (!env.slackBotToken) throw new MissingSettingError('SLACK_BOT_TOKEN', 'requests are announced in Slack');
  const keys = hmacKeysFrom(env.hmacKey);
  const metrics = createMetrics();
  const target = redisTarget(env, config.redis);
  const redis = createRedis(target);
  redis.on('error', (error) => logger.warn({ err: error }, 'redis connection error'));
  // Producers get their own connection: an enqueue waits out a failover's reconnect, bounded by
  // the client command timeout (see producerConnectionOptions).
  const producer = createRedis(target, 'client', producerConnectionOptions);
  producer.on('error', (error) => logger.warn({ err: error }, 'redis producer connection error'));
  const queues = new Queues(producer, config.redis.prefix);

  const injected = options.adapters ?? {};
  // The AWS side loads and validates the templates (a bad one stops start-up with file and field).
  // Tests inject their own adapters; when Organizations is off the static list is the directory.
  const needsAws =
    !injected.grants || !injected.templates || (!injected.accounts && config.aws.organizations.enabled);
  const aws = needsAws ? await createAwsServices({ env, loaded, redis, logger, metrics, clock }) : undefined;
  const accounts = injected.accounts ?? aws?.accounts ?? staticAccountDirectory(config.aws.accounts);
  const templates = injected.templates ?? aws!.templates;
  const grants = injected.grants ?? aws!.grants;
  const ruleIssues = [
    ...breakGlassIssues(loaded.file, config, templates.list()),
    ...onCallTokenIssues(loaded.file, config, env),
    ...grantBackendIssues(
      loaded.file,
      config,
      aws?.templates.templates ?? templates.list().map((t) => ({ name: t.name, file: loaded.file })),
    ),
  ];
  if (ruleIssues.length) throw new ConfigError(ruleIssues);
  const accountClients = injected.accountClients ?? aws?.accountClients;
  const effectiveAccess = injected.effectiveAccess ?? aws?.effectiveAccess;

  const settings = requestSettings(config);
  const onCall = createOnCallDirectory(config, env, clock, logger);
  const ruleByName = (name: string) => ruleNamed({ settings }, name);
  const audit = new RedisAuditLog(redis, config.redis.prefix, {
    chainKey: keys.auditChain,
    logger,
    forward: countTransitions(metrics, auditBatchScheduler(queues, config.slack.auditBatchSeconds, clock)),
  });
  const store = new RedisRequestStore(redis, config.redis.prefix, clock, requestStoreOptions(config));
  const signer = hmacRecordSigner(keys.requestRecord);
  // A group outlives its longest grant and then its members' retention.
  const groups = new RedisRequestGroupStore(
    redis,
    config.redis.prefix,
    config.requests.retainFinished + config.durations.maxTotal,
  );
  metrics.countActiveGrantsWith(() => store.countInStates(ROLE_STATES));
  const requestService = (notifier: SlackNotifier, people: SlackPeople, engine = grants) =>
    new RequestService({
      store,
      audit,
      grants: engine,
      accounts,
      templates,
      people,
      scheduler: new BullRequestScheduler(queues, clock),
      notifier,
      groups,
      groupNotifier: notifier,
      signer,
      clock,
      newId: newRequestId,
      settings,
      ...(onCall ? { onCall } : {}),
      onError: (error, context) => logger.warn({ err: error, context }, 'a side effect failed'),
      ...(effectiveAccess ? { effectiveAccess } : {}),
    });
  const notifier = (client: WebClient, defer?: DeferNotification) =>
    new SlackNotifier(client, config.slack.channels, templates, ruleByName, defer ? { defer } : {});

  const hygieneAudit = async (event: Parameters<typeof hygieneAuditToAuditEvent>[0]) =>
    audit.record(hygieneAuditToAuditEvent(event));

  // The web role: Bolt, and the request path's RequestService on Bolt's own client.
  let slack: SlackApp | undefined;
  let webRequests: RequestService | undefined;
  if (role === 'web' || role === 'all') {
    slack = createSlackApp(env, logger);
    const client = slack.client;
    webRequests = requestService(notifier(client), new SlackPeople(client));
    // One Bolt listener per kind of request, routing by id (see listener-router.ts).
    const listeners = createListenerRouter(slack.app);
    registerListeners(listeners, {
      config,
      requests: webRequests,
      accounts,
      templates,
      intake: new BullIntakeQueue(queues),
      logger,
    });
    registerHygieneListeners(listeners, { redis, config, logger, clock, audit: hygieneAudit });
    registerPostureListeners(listeners, { redis, config, logger, clock, audit: hygieneAudit });
    await slack.start();
  }
  // The worker role: jobs talk to Slack through the client that rejects rate-limited calls; a
  // rate-limited post becomes a notify job retried after Retry-After, so no worker waits on Slack.
  let jobRequests: RequestService | undefined;
  let workers: Closable[] = [];
  let revocations: RevocationLimiter | undefined;
  const jobsSide = (engine = grants) => {
    const jobClient = createSlackClient(env, 'jobs');
    const jobNotifier = notifier(jobClient, deferNotifications(queues));
    return {
      jobClient,
      jobNotifier,
      requests: requestService(jobNotifier, new SlackPeople(jobClient), engine),
    };
  };
  if (role === 'web' && options.intakeInWebRole) {
    const { requests: intakeRequests } = jobsSide();
    workers = await startWorkerRole({
      env,
      loaded,
      logger,
      metrics,
      clock,
      intake: { requests: intakeRequests, replies: new SlackIntakeReplies() },
    });
  }
  if (role === 'worker' || role === 'all') {
    // Revoke jobs and reconcile ask AWS for revocations within per-account bounds (see the limiter).
    revocations = new RevocationLimiter(config.revocation, (outcome) =>
      metrics.revocationAttempts.inc({ outcome }),
    );
    const jobGrants = limitRevocations(grants, revocations);
    const { jobClient, jobNotifier, requests: created } = jobsSide(jobGrants);
    jobRequests = created;
    workers = await startWorkerRole({
      env,
      loaded,
      logger,
      metrics,
      clock,
      requests: jobRequests,
      intake: { requests: jobRequests, replies: new SlackIntakeReplies() },
      notify: {
        notifications: jobNotifier,
        auditChannel: new SlackAuditChannel(jobClient, config.slack.channels.audit),
      },
      grants: jobGrants,
      accounts,
      ...(effectiveAccess?.refresh ? { refreshScps: effectiveAccess.refresh.bind(effectiveAccess) } : {}),
      workerOptions: options.workerOptions,
      scheduleReconcile: options.scheduleReconcile,
      accountClients,
      hygieneSlack: slackHygieneAdapters(jobClient, config, { logger }),
      listAccountIds: async () => (await accounts.listAccounts()).map((a) => a.id),
      hygieneAudit,
      // The posture review needs the grant templates (drift of /aws-access/ roles): with AWS only.
      posture: aws && {
        naming: {
          templates: aws.templates,
          partition: partitionOf(env.awsRegion),
          region: config.aws.region,
          brokerRoleName: config.aws.brokerRoleName,
        },
        notifier: new SlackPostureNotifier(jobClient, {
          securityChannel: config.slack.channels.security,
          accountNames: new Map(config.aws.accounts.filter((a) => a.name).map((a) => [a.id, a.name!])),
        }),
      },
      changeAlerts: new SlackChangeAlertNotifier(jobClient, {
        channel: config.posture.alerts.channel ?? config.slack.channels.security,
        accountNames: new Map(config.aws.accounts.filter((a) => a.name).map((a) => [a.id, a.name!])),
      }),
      auditAnchor: config.audit.anchor && {
        anchors: new S3AuditAnchors(
          createAnchorS3Client({ region: env.awsRegion, endpoint: env.awsEndpointUrl }),
          config.audit.anchor,
          keys.auditChain,
        ),
        chainKey: keys.auditChain,
        intervalSeconds: config.audit.anchor.interval,
      },
    });
  }
  // The RequestService of the role: the request path's when this process serves Slack.
  const requests = webRequests ?? jobRequests!;
  // Readiness: false from the moment shutdown begins (see stop()).
  let shuttingDown = false;

  const server = createHttpServer({
    logger,
    // Slack's signature freshness is about real time, whatever clock the domain is given.
    clock: systemClock,
    metrics,
    slackListener: slack?.requestListener,
    slackSigningSecret: env.slackSigningSecret,
    replayGuard: new RedisReplayGuard(redis, config.redis.prefix),
    checkReady: () => pingWithTimeout(redis),
    shuttingDown: () => shuttingDown,
  });
  const port = await listen(server, env.port, options.host);
  logger.info({ port, role, socketMode: Boolean(env.slackAppToken) }, 'aws-access-bot started');

  const shutdown = { ...DEFAULT_SHUTDOWN, ...options.shutdown };
  let stopping: Promise<void> | undefined;
  /**
   * 1. `/readyz` answers 503 at once (and every response says `Connection: close`).
   * 2. Workers stop taking jobs and finish the active ones (in parallel with the web side).
   * 3. Web, HTTP mode: keep serving for `drainMs` while the endpoint removal propagates, then stop
   *    accepting, close keep-alive connections as they turn idle, and wait for the requests in
   *    progress and the listeners' work after their ack.
   * 4. At the deadline (less a reserve for step 5): cut the connections left, and hand the jobs
   *    still running back to the queue so another worker takes them at once.
   * 5. Close the queues and quit Redis, bounded too.
   */
  const stop = () => {
    stopping ??= (async () => {
      const startedAt = performance.now();
      const reserveMs = Math.min(2_000, shutdown.timeoutMs / 5);
      const workDeadline = startedAt + shutdown.timeoutMs - reserveMs;
      const left = () => Math.max(0, workDeadline - performance.now());
      shuttingDown = true;
      logger.info({ role, ...shutdown }, 'shutting down: /readyz answers 503');
      const jobs = (async () => {
        if (!workers.length) return;
        if (await within(Promise.all(workers.map((w) => w.close())), left())) return;
        const released = (await Promise.all(workers.map((w) => w.release?.() ?? []))).flat();
        logger.warn({ released }, 'shutdown deadline: jobs still running were moved back to the queue');
      })();
      const web = (async () => {
        if (slack?.requestListener && shutdown.drainMs > 0) {
          await new Promise((resolve) => setTimeout(resolve, Math.min(shutdown.drainMs, left())));
        }
        await slack?.stop();
        const closed = await closeServer(server, left());
        const idle = !slack || (await within(slack.idle(), left()));
        if (!closed || !idle) {
          logger.warn(
            { connectionsCut: !closed, slackEventsCut: slack?.inFlight() ?? 0 },
            'shutdown deadline: Slack work still in progress was cut off',
          );
        }
      })();
      await Promise.all([jobs, web]);
      const rest = () => Math.max(0, startedAt + shutdown.timeoutMs - performance.now());
      await within(queues.close(), rest());
      for (const connection of [producer, redis]) {
        if (!(await within(connection.quit(), rest()))) connection.disconnect();
      }
      logger.info({ elapsedMs: Math.round(performance.now() - startedAt) }, 'stopped');
    })();
    return stopping;
  };
  return { port, server, redis, metrics, slack, requests, queues, audit, keys, revocations, stop };
}
