import { App, HTTPReceiver, type AnyMiddlewareArgs, type App as BoltApp, type Authorize } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { RequestListener, ServerResponse } from 'node:http';
import type { EnvOptions } from '../config/env.js';
import { MissingSettingError } from '../errors.js';
import { SLACK_BODY_LIMIT_BYTES, slackResponseOf } from '../http/slack-gate.js';
import type { Logger } from '../logger.js';
import { boltLogger } from './bolt-logger.js';
import { createSlackClient, slackClientOptions } from './slack-client.js';

/** The context key under which HTTP-mode listeners find the request's ServerResponse. */
const HTTP_RESPONSE = 'slackHttpResponse';

export interface SlackApp {
  app: BoltApp;
  /** The request-path Web API client with the bot token (the web role's notifier uses it). */
  client: WebClient;
  /** HTTP mode: the listener for POST /slack/events. Undefined in Socket Mode. */
  requestListener?: RequestListener;
  /** Socket Mode connects here; HTTP mode is served by our own server. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Slack events being processed now, the work after the ack included. */
  inFlight(): number;
  /** Resolves once no Slack event is being processed (shutdown waits for it, bounded). */
  idle(): Promise<void>;
}

/**
 * Counts the Slack events being processed. With `processBeforeResponse: false` a listener acks
 * first and goes on working (store the request, post to the approvers) after the HTTP response
 * has gone out, so a finished HTTP connection does not mean finished work: shutdown waits here
 * too. Installed as the first global middleware; Bolt resolves `next()` once every listener has
 * settled.
 */
export function inFlightTracker() {
  let count = 0;
  let waiters: Array<() => void> = [];
  const middleware = async ({ next }: { next: () => Promise<void> }): Promise<void> => {
    count += 1;
    try {
      await next();
    } finally {
      count -= 1;
      if (count === 0) {
        const woken = waiters;
        waiters = [];
        woken.forEach((wake) => wake());
      }
    }
  };
  return {
    middleware,
    inFlight: () => count,
    idle: () => (count === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
  };
}

export function createSlackApp(env: EnvOptions, logger: Logger): SlackApp {
  if (!env.slackBotToken) throw new MissingSettingError('SLACK_BOT_TOKEN', 'the web role talks to Slack');
  // SlackApp.client is the request-path client of the process: the notifier on the web role uses it.
  const clientOptions = slackClientOptions(env, 'requests');
  const log = boltLogger(logger);
  if (env.slackAppToken) {
    const app = new App({
      token: env.slackBotToken,
      appToken: env.slackAppToken,
      socketMode: true,
      logger: log,
      clientOptions,
    });
    const tracker = inFlightTracker();
    app.use(tracker.middleware);
    return {
      app,
      client: app.client,
      inFlight: tracker.inFlight,
      idle: tracker.idle,
      start: async () => {
        await app.start();
      },
      stop: async () => {
        await app.stop();
      },
    };
  }
  if (!env.slackSigningSecret) {
    throw new MissingSettingError('SLACK_SIGNING_SECRET', 'HTTP mode verifies every Slack request with it');
  }
  const receiver = new HTTPReceiver({
    signingSecret: env.slackSigningSecret,
    endpoints: '/slack/events',
    logger: log,
    // Ack first, then do slow work: listeners call ack() themselves within Slack's 3 s.
    processBeforeResponse: false,
    // Our HTTP server has read and checked the body already (src/http/slack-gate.ts); this is
    // the same limit in case the receiver is ever mounted without it.
    bodyLimit: SLACK_BODY_LIMIT_BYTES,
    // The gate hands Bolt the response too (slack-gate.ts): ackWhenNoListenerDid reads whether
    // a listener already answered instead of acking again into Bolt's ReceiverMultipleAckError.
    customPropertiesExtractor: (req) => {
      const response = slackResponseOf(req);
      return response ? { [HTTP_RESPONSE]: response } : {};
    },
  });
  const client = createSlackClient(env, 'requests');
  const app = new App({
    authorize: botAuthorization(client, env.slackBotToken),
    receiver,
    // Bolt's default conversation store is an in-memory map consulted on every event; nothing
    // here uses conversation state (requests live in Redis), so it is left out.
    convoStore: false,
    logger: log,
    clientOptions,
  });
  const tracker = inFlightTracker();
  app.use(tracker.middleware);
  app.use(ackWhenNoListenerDid(logger));
  return {
    app,
    client,
    inFlight: tracker.inFlight,
    idle: tracker.idle,
    requestListener: receiver.requestListener,
    start: async () => undefined,
    stop: async () => undefined,
  };
}

/**
 * Global middleware that runs after every listener: a request no listener acknowledged (an
 * action id we do not handle, or a listener that threw before ack) gets an empty 200 at once
 * instead of Bolt's 404 after its 3-second timer. Listener errors still reach Bolt's error handler.
 */
export function ackWhenNoListenerDid(logger: Logger) {
  return async (
    args: AnyMiddlewareArgs & { next: () => Promise<void>; context: Record<string, unknown> },
  ): Promise<void> => {
    const ack = 'ack' in args ? (args.ack as ((response?: unknown) => Promise<void>) | undefined) : undefined;
    try {
      await args.next();
    } finally {
      // Over HTTP the response says whether a listener acked (asking Bolt again costs an Error
      // with its stack on every request); in Socket Mode, Bolt's refusal of a second ack does.
      const response = args.context[HTTP_RESPONSE] as ServerResponse | undefined;
      if (ack && !response?.headersSent) {
        await ack().then(
          () => logger.debug('no listener acknowledged the request; sent an empty ack'),
          () => undefined, // already acknowledged by a listener (ReceiverMultipleAckError)
        );
      }
    }
  };
}

/**
 * Bolt's bot authorization for one token, checked with auth.test on first use and remembered
 * only once it succeeded. Bolt's own check runs once at construction and keeps a failure (Slack
 * unreachable for a moment while the pod starts) for the life of the process, answering every
 * signed request 401 while /readyz says ready; this one tries again on the next request.
 */
export function botAuthorization(client: WebClient, token: string): Authorize<boolean> {
  let verified: Promise<{ botId?: string; botUserId?: string; teamId?: string }> | undefined;
  return async () => {
    verified ??= client.auth
      .test({ token })
      .then((r) => ({ botId: r.bot_id, botUserId: r.user_id, teamId: r.team_id }))
      .catch((error: unknown) => {
        verified = undefined;
        throw error;
      });
    return { botToken: token, ...(await verified) };
  };
}
