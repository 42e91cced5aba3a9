/**
 * Everything a request to POST /slack/events passes before Bolt sees it, cheapest first:
 *
 * 1. size: a declared Content-Length over the limit gets 413 at once; a streamed body is counted
 *    and cut off at the limit; the whole body must arrive within the body timeout (408);
 * 2. signature and timestamp (Bolt's own `verifySlackRequest`), plus no timestamps from the future;
 * 3. shape: the body must be a slash command, an interactivity payload or an Events API callback
 *    that Bolt can dispatch without tripping over it (400/415, see slack-body.ts);
 * 4. replay: a signature seen before within the window gets 409 (Redis, after verification only).
 *
 * Only then is the already-read body handed to Bolt as `req.rawBody`, which Bolt's HTTP receiver
 * uses instead of reading the stream again (HTTPModuleFunctions.bufferIncomingMessage).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import { verifySlackRequest } from '@slack/bolt';
import type { Clock } from '../domain/ports.js';
import type { Logger } from '../logger.js';
import { BodyError, checkDeclaredLength, readBody, type BodyLimits } from './body.js';
import type { Metrics } from './metrics.js';
import type { ReplayGuard } from './replay-guard.js';
import { classifySlackBody } from './slack-body.js';

/** Slack's own payloads stay far below this (a modal submission is a few KB). */
export const SLACK_BODY_LIMIT_BYTES = 256 * 1024;
/** A body that takes longer than this to arrive is not Slack. */
export const SLACK_BODY_TIMEOUT_MS = 10_000;
/** Slack signs a timestamp; Bolt rejects old ones, we also reject ones from the future. */
export const MAX_CLOCK_SKEW_SECONDS = 300;

export type SlackOutcome =
  'accepted' | 'rejected' | 'too_large' | 'timeout' | 'malformed' | 'replayed' | 'unavailable';

export interface SlackGateOptions {
  signingSecret: string;
  /** Refuses a second use of a signature; absent only in tests of the gate itself. */
  replayGuard?: ReplayGuard;
  listener: RequestListener;
  logger: Logger;
  metrics: Metrics;
  limits?: Partial<BodyLimits>;
  clock: Clock;
}

type BufferedRequest = IncomingMessage & { rawBody?: Buffer; [RESPONSE]?: ServerResponse };

const RESPONSE = Symbol('slack-gate response');

/** The response of a request the gate passed to Bolt (for Bolt's customPropertiesExtractor). */
export function slackResponseOf(req: IncomingMessage): ServerResponse | undefined {
  return (req as BufferedRequest)[RESPONSE];
}

export function isFutureTimestamp(header: string | string[] | undefined, nowMs: number): boolean {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value || !/^\d+$/.test(value)) return false;
  return Number(value) - Math.floor(nowMs / 1000) > MAX_CLOCK_SKEW_SECONDS;
}

function reply(res: ServerResponse, status: number, body: string, close = false): void {
  if (res.headersSent) return;
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
  if (close) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}

function singleHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

export function createSlackGate(
  options: SlackGateOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const limits: BodyLimits = {
    limit: options.limits?.limit ?? SLACK_BODY_LIMIT_BYTES,
    timeoutMs: options.limits?.timeoutMs ?? SLACK_BODY_TIMEOUT_MS,
  };
  const now = () => options.clock.now();
  const { logger, metrics } = options;
  const refuse = (res: ServerResponse, outcome: SlackOutcome, status: number, why: string, close = false) => {
    metrics.slackRequests.inc({ outcome });
    logger.warn({ outcome, status, reason: why.slice(0, 300) }, 'refused a Slack request');
    reply(res, status, `${status === 401 ? 'invalid request' : why.split('\n')[0]!.slice(0, 200)}\n`, close);
  };

  return async (req, res) => {
    const signature = singleHeader(req, 'x-slack-signature');
    const timestamp = singleHeader(req, 'x-slack-request-timestamp');
    if (isFutureTimestamp(timestamp, now())) {
      return refuse(res, 'rejected', 401, 'timestamp more than 5 minutes in the future');
    }
    let raw: Buffer;
    try {
      checkDeclaredLength(req, limits.limit);
      raw = await readBody(req, limits);
    } catch (error) {
      if (!(error instanceof BodyError)) throw error;
      const outcome = error.status === 413 ? 'too_large' : error.status === 408 ? 'timeout' : 'malformed';
      return refuse(res, outcome, error.status, error.message, true);
    }

    const contentType = req.headers['content-type'];
    // Slack's SSL check is not signed (Bolt answers it without verification too); it does nothing.
    if (
      contentType === 'application/x-www-form-urlencoded' &&
      parseQueryString(raw.toString('utf8')).ssl_check === '1'
    ) {
      metrics.slackRequests.inc({ outcome: 'accepted' });
      res.writeHead(200);
      res.end();
      return;
    }

    try {
      if (signature === undefined || timestamp === undefined) throw new Error('signature headers missing');
      verifySlackRequest({
        signingSecret: options.signingSecret,
        body: raw.toString('utf8'),
        headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': Number(timestamp) },
        nowMilliseconds: now(),
      });
    } catch (error) {
      return refuse(res, 'rejected', 401, (error as Error).message);
    }

    const shape = classifySlackBody(contentType, raw);
    if (shape.kind === 'invalid') return refuse(res, 'malformed', shape.status, shape.reason);

    if (options.replayGuard) {
      let first: boolean;
      try {
        first = await options.replayGuard.firstUse(signature!, timestamp!);
      } catch (error) {
        // Fail closed: without the replay check a captured request could be played again.
        metrics.slackRequests.inc({ outcome: 'unavailable' });
        logger.error({ err: error }, 'replay check failed; refusing the Slack request');
        return reply(res, 503, 'try again\n');
      }
      if (!first) return refuse(res, 'replayed', 409, 'request already received');
    }

    res.on('finish', () => {
      metrics.slackRequests.inc({ outcome: res.statusCode === 401 ? 'rejected' : 'accepted' });
    });
    (req as BufferedRequest).rawBody = raw;
    (req as BufferedRequest)[RESPONSE] = res;
    options.listener(req, res);
  };
}
