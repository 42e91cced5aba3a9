import { App, HTTPReceiver, type App as BoltApp } from '@slack/bolt';
import type { RequestListener } from 'node:http';
import type { EnvOptions } from '../config/env.js';
import { MissingSettingError } from '../errors.js';
import type { Logger } from '../logger.js';
import { boltLogger } from './bolt-logger.js';

export interface SlackApp {
  app: BoltApp;
  /** HTTP mode: the listener for POST /slack/events. Undefined in Socket Mode. */
  requestListener?: RequestListener;
  /** Socket Mode connects here; HTTP mode is served by our own server. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createSlackApp(env: EnvOptions, logger: Logger): SlackApp {
  if (!env.slackBotToken) throw new MissingSettingError('SLACK_BOT_TOKEN', 'the web role talks to Slack');
  const clientOptions = env.slackApiUrl ? { slackApiUrl: env.slackApiUrl } : {};
  const log = boltLogger(logger);
  if (env.slackAppToken) {
    const app = new App({
      token: env.slackBotToken,
      appToken: env.slackAppToken,
      socketMode: true,
      logger: log,
      clientOptions,
    });
    return {
      app,
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
  });
  const app = new App({ token: env.slackBotToken, receiver, logger: log, clientOptions });
  return {
    app,
    requestListener: receiver.requestListener,
    start: async () => undefined,
    stop: async () => undefined,
  };
}
