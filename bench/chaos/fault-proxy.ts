/**
 * A small HTTP fault proxy on loopback: forwards every request to `target` unless `decide` says
 * otherwise, and counts what it injected. Used in front of moto (IAM/STS faults) and in front of
 * the fake Slack Web API (429 with Retry-After, 500).
 *
 * Faults:
 * - `status`: answered by the proxy with that status, headers and body; the target never sees it.
 * - `drop`: the client's socket is destroyed before anything is forwarded.
 * - `drop-after`: forwarded, the target acts on it, then the answer is thrown away and the
 *   socket destroyed (the nasty one: the call happened, the caller does not know).
 * - `delay`: forwarded after `ms`.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Fault =
  | { kind: 'status'; label: string; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'drop'; label: string }
  | { kind: 'drop-after'; label: string }
  | { kind: 'delay'; label: string; ms: number };

export interface ProxiedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export type Decide = (request: ProxiedRequest) => Fault | undefined;

export class FaultProxy {
  /** Injected faults by label. */
  readonly injected = new Map<string, number>();
  forwarded = 0;
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  origin = '';

  constructor(
    private readonly target: string,
    public decide: Decide = () => undefined,
    /** Called for every request with the fault (if any) and, once known, the target's status. */
    private readonly trace?: (request: ProxiedRequest, fault: Fault | undefined, status?: number) => void,
  ) {}

  count(label: string): void {
    this.injected.set(label, (this.injected.get(label) ?? 0) + 1);
  }

  async start(port = 0): Promise<this> {
    const target = new URL(this.target);
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('error', () => undefined);
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const proxied: ProxiedRequest = {
          method: req.method ?? 'GET',
          url: req.url ?? '/',
          headers: req.headers,
          body,
        };
        let fault: Fault | undefined;
        try {
          fault = this.decide(proxied);
        } catch {
          fault = undefined;
        }
        if (fault) this.count(fault.label);
        this.trace?.(proxied, fault);
        if (fault?.kind === 'status') {
          res.writeHead(fault.status, { 'content-type': 'text/xml', ...fault.headers });
          res.end(fault.body ?? '');
          return;
        }
        if (fault?.kind === 'drop') {
          req.socket.destroy();
          return;
        }
        const forward = () => {
          this.forwarded += 1;
          const upstream = httpRequest(
            {
              host: target.hostname,
              port: target.port,
              method: proxied.method,
              path: proxied.url,
              headers: { ...req.headers, host: target.host },
            },
            (up) => {
              const parts: Buffer[] = [];
              up.on('data', (c: Buffer) => parts.push(c));
              up.on('end', () => {
                this.trace?.(proxied, fault, up.statusCode);
                if (fault?.kind === 'drop-after') {
                  req.socket.destroy();
                  return;
                }
                const headers = { ...up.headers };
                delete headers['transfer-encoding'];
                headers['content-length'] = String(Buffer.concat(parts).length);
                res.writeHead(up.statusCode ?? 502, headers);
                res.end(Buffer.concat(parts));
              });
              up.on('error', () => req.socket.destroy());
            },
          );
          upstream.on('error', () => {
            if (!res.headersSent) {
              res.writeHead(502);
              res.end('fault proxy: upstream unreachable');
            }
          });
          upstream.end(body);
        };
        if (fault?.kind === 'delay') setTimeout(forward, fault.ms);
        else forward();
      });
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }
}

/** The AWS service a SigV4-signed request is for (the credential scope in its Authorization). */
export function awsService(request: ProxiedRequest): string | undefined {
  const auth = String(request.headers.authorization ?? '');
  return /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(auth)?.[1];
}

/** The Action of a query-protocol call (IAM, STS), for logs. */
export function awsAction(request: ProxiedRequest): string | undefined {
  const fromBody = new URLSearchParams(request.body.toString('utf8')).get('Action');
  return fromBody ?? new URL(request.url, 'http://x').searchParams.get('Action') ?? undefined;
}

const xmlError = (code: string, message: string) =>
  `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>chaos-${Math.random().toString(16).slice(2)}</RequestId></ErrorResponse>`;

/**
 * The AWS fault mix: of IAM and STS calls, `rate` are answered 500, 400 `Throttling` or a
 * dropped connection (before forwarding, or after moto acted); `delayRate` are delayed 2 s.
 */
export function awsFaults(options: {
  enabled: () => boolean;
  rate: number;
  delayRate: number;
  random?: () => number;
}): Decide {
  const random = options.random ?? Math.random;
  return (request) => {
    if (!options.enabled()) return undefined;
    const service = awsService(request);
    if (service !== 'iam' && service !== 'sts') return undefined;
    const roll = random();
    if (roll < options.rate) {
      const which = Math.floor((roll / options.rate) * 4);
      switch (which) {
        case 0:
          return {
            kind: 'status',
            label: `${service} 500`,
            status: 500,
            body: xmlError('InternalFailure', 'chaos: injected 500'),
          };
        case 1:
          return {
            kind: 'status',
            label: `${service} 400 Throttling`,
            status: 400,
            body: xmlError('Throttling', 'Rate exceeded'),
          };
        case 2:
          return { kind: 'drop', label: `${service} connection dropped (before)` };
        default:
          return { kind: 'drop-after', label: `${service} connection dropped (after moto acted)` };
      }
    }
    if (roll < options.rate + options.delayRate)
      return { kind: 'delay', label: `${service} delayed 2 s`, ms: 2000 };
    return undefined;
  };
}

/** Slack Web API faults while `window()` says so: 429 with Retry-After, or 500. */
export function slackFaults(options: {
  window: () => 'off' | 'rate-limited' | 'erroring';
  rate: number;
  retryAfterSeconds: number;
  random?: () => number;
}): Decide {
  const random = options.random ?? Math.random;
  return (request): Fault | undefined => {
    const mode = options.window();
    if (mode === 'off' || !request.url.startsWith('/api/')) return undefined;
    if (random() >= options.rate) return undefined;
    const method = request.url.replace(/^\/api\//, '').split('?')[0];
    if (mode === 'rate-limited') {
      return {
        kind: 'status',
        label: `slack 429 Retry-After ${options.retryAfterSeconds}s`,
        status: 429,
        headers: { 'retry-after': String(options.retryAfterSeconds), 'content-type': 'application/json' },
        body: JSON.stringify({ ok: false, error: 'ratelimited', method }),
      };
    }
    return {
      kind: 'status',
      label: 'slack 500',
      status: 500,
      headers: { 'content-type': 'text/plain' },
      body: 'chaos',
    };
  };
}
