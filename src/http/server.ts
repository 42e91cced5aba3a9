import type { Clock } from '../domain/ports.js';
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';
import type { BodyLimits } from './body.js';
import type { Metrics } from './metrics.js';
import type { ReplayGuard } from './replay-guard.js';
import { createSlackGate } from './slack-gate.js';

/** Timeouts against slow clients (slowloris): headers, and the whole request. */
export interface ServerTimeouts {
  /** Headers must be complete within this (Node's `server.headersTimeout`). */
  headersTimeoutMs: number;
  /** The whole request must be received within this (Node's `server.requestTimeout`). */
  requestTimeoutMs: number;
  /** Idle keep-alive connections are closed after this. */
  keepAliveTimeoutMs: number;
}

export const DEFAULT_SERVER_TIMEOUTS: ServerTimeouts = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
};

export interface HttpServerOptions {
  logger: Logger;
  metrics: Metrics;
  /** Bolt's request listener for POST /slack/events; absent in worker-only or Socket Mode. */
  slackListener?: RequestListener;
  /** Required with slackListener: requests are verified before Bolt buffers or parses them. */
  slackSigningSecret?: string;
  /** Refuses a replayed signature (Redis); required with slackListener outside gate tests. */
  replayGuard?: ReplayGuard;
  /** Body size limit and body read deadline for /slack/events. */
  bodyLimits?: Partial<BodyLimits>;
  timeouts?: Partial<ServerTimeouts>;
  /** Readiness: resolves when dependencies (Redis) answer. */
  checkReady: () => Promise<void>;
  /** The process's clock: Slack timestamps are checked against it. */
  clock: Clock;
  /**
   * True once shutdown has begun: `/readyz` answers 503 at once (without asking Redis), and
   * every response carries `Connection: close` so keep-alive clients reconnect elsewhere.
   */
  shuttingDown?: () => boolean;
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}

export function createHttpServer(options: HttpServerOptions): Server {
  const { slackListener, slackSigningSecret } = options;
  if (slackListener && !slackSigningSecret) {
    throw new Error('createHttpServer: slackSigningSecret is required to serve /slack/events');
  }
  const slackGate =
    slackListener &&
    createSlackGate({
      signingSecret: slackSigningSecret!,
      replayGuard: options.replayGuard,
      listener: slackListener,
      logger: options.logger,
      metrics: options.metrics,
      limits: options.bodyLimits,
      clock: options.clock,
    });
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return send(res, 400, 'bad request\n');
    }
    if (req.method === 'GET' && url.pathname === '/healthz') return send(res, 200, 'ok\n');
    if (req.method === 'GET' && url.pathname === '/readyz') {
      if (options.shuttingDown?.()) return send(res, 503, 'shutting down\n');
      try {
        await options.checkReady();
        return send(res, 200, 'ready\n');
      } catch (error) {
        options.logger.warn({ err: error }, 'readiness check failed');
        return send(res, 503, 'not ready\n');
      }
    }
    if (req.method === 'GET' && url.pathname === '/metrics') {
      return send(res, 200, await options.metrics.registry.metrics(), options.metrics.registry.contentType);
    }
    if (url.pathname === '/slack/events' && slackGate) {
      if (req.method !== 'POST') return send(res, 405, 'method not allowed\n');
      return slackGate(req, res);
    }
    send(res, 404, 'not found\n');
  };
  const timeouts = { ...DEFAULT_SERVER_TIMEOUTS, ...options.timeouts };
  const server = createServer(
    {
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      keepAliveTimeout: timeouts.keepAliveTimeoutMs,
      // How often Node checks the two timeouts above (default 30 s would stretch them).
      connectionsCheckingInterval: Math.min(1_000, timeouts.headersTimeoutMs),
    },
    (req, res) => {
      if (options.shuttingDown?.()) res.setHeader('connection', 'close');
      handle(req, res).catch((error: unknown) => {
        options.logger.error({ err: error }, 'http handler failed');
        if (!res.headersSent) send(res, 500, 'internal error\n');
      });
    },
  );
  return server;
}

export function listen(server: Server, port: number, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Stops accepting connections, lets the requests in progress finish, and closes keep-alive
 * connections as soon as they are idle. Resolves true once every connection has ended, or false
 * at `timeoutMs`, when whatever is still open is cut.
 */
export async function closeServer(server: Server, timeoutMs: number): Promise<boolean> {
  if (!server.listening) return true;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // A connection whose response goes out after close() turns idle later: close it then.
  const sweep = setInterval(() => server.closeIdleConnections(), 100);
  let timer: NodeJS.Timeout | undefined;
  try {
    const inTime = await Promise.race([
      closed.then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs)))),
    ]);
    if (!inTime) {
      server.closeAllConnections();
      await closed;
    }
    return inTime;
  } finally {
    clearInterval(sweep);
    clearTimeout(timer);
  }
}
