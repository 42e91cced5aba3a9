import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';
import type { Metrics } from './metrics.js';

/** Slack signs a timestamp; Bolt rejects old ones, we also reject ones from the future. */
export const MAX_CLOCK_SKEW_SECONDS = 300;

export interface HttpServerOptions {
  logger: Logger;
  metrics: Metrics;
  /** Bolt's request listener for POST /slack/events; absent in worker-only or Socket Mode. */
  slackListener?: RequestListener;
  /** Readiness: resolves when dependencies (Redis) answer. */
  checkReady: () => Promise<void>;
  now?: () => number;
}

export function isFutureTimestamp(header: string | string[] | undefined, nowMs: number): boolean {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value || !/^\d+$/.test(value)) return false;
  return Number(value) - Math.floor(nowMs / 1000) > MAX_CLOCK_SKEW_SECONDS;
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}

export function createHttpServer(options: HttpServerOptions): Server {
  const now = options.now ?? Date.now;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/healthz') return send(res, 200, 'ok\n');
    if (req.method === 'GET' && url.pathname === '/readyz') {
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
    if (url.pathname === '/slack/events' && options.slackListener) {
      if (req.method !== 'POST') return send(res, 405, 'method not allowed\n');
      if (isFutureTimestamp(req.headers['x-slack-request-timestamp'], now())) {
        options.metrics.slackRequests.inc({ outcome: 'rejected' });
        options.logger.warn('rejected a Slack request stamped more than 5 minutes in the future');
        return send(res, 401, 'invalid request\n');
      }
      res.on('finish', () => {
        options.metrics.slackRequests.inc({ outcome: res.statusCode === 401 ? 'rejected' : 'accepted' });
      });
      options.slackListener(req, res);
      return;
    }
    send(res, 404, 'not found\n');
  };
  return createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      options.logger.error({ err: error }, 'http handler failed');
      if (!res.headersSent) send(res, 500, 'internal error\n');
    });
  });
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
