/**
 * The `fetch` our Slack clients use (the Web API client and Bolt's `respond()` to a
 * response_url): a POST over `node:http`/`node:https` with keep-alive agents, answered as a
 * standard `Response`.
 *
 * Why not the global fetch: profiled under load (docs/benchmarks.md, section 1), the WHATWG layer
 * of Node's fetch (web streams, Headers, AbortSignal per request) cost about 0.3 ms of CPU per
 * Slack call, and a one-line request makes four of them (users.info, two posts, the response_url);
 * the same call through `node:http` costs about a third of that. Anything this adapter does not
 * handle the way fetch would (a body that is not a string or bytes, such as a file upload's
 * FormData; a method other than POST/GET; an AbortSignal) goes to the global fetch unchanged.
 * Redirects are never followed (the Web API client asks for `redirect: 'error'`; a 3xx comes back
 * as a non-200 response, which it treats as an error).
 */
import http from 'node:http';
import https from 'node:https';

const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
} as const;

/** Statuses whose Response may not carry a body. */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

function headerRecord(init: RequestInit['headers']): Record<string, string> {
  if (!init) return {};
  if (init instanceof Headers) return Object.fromEntries(init.entries());
  if (Array.isArray(init)) return Object.fromEntries(init);
  return { ...(init as Record<string, string>) };
}

function simpleBody(body: RequestInit['body']): string | Uint8Array | undefined | false {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  return false;
}

/**
 * How long a call may wait for the answer, as undici (the global fetch) bounds it by default:
 * a Slack that stops answering fails the call instead of holding it for ever.
 */
export const SLACK_ANSWER_TIMEOUT_MS = 300_000;

export const slackFetch: typeof fetch = createSlackFetch(SLACK_ANSWER_TIMEOUT_MS);

/** slackFetch with another answer timeout (tests). */
export function createSlackFetch(answerTimeoutMs: number): typeof fetch {
  return (input, init) => post(answerTimeoutMs, input, init);
}

async function post(
  answerTimeoutMs: number,
  input: Parameters<typeof fetch>[0],
  init: Parameters<typeof fetch>[1],
): Promise<Response> {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : undefined;
  const method = (init?.method ?? 'GET').toUpperCase();
  const body = simpleBody(init?.body);
  const protocol = url ? (new URL(url).protocol as keyof typeof agents) : undefined;
  if (!url || body === false || init?.signal || !['GET', 'POST'].includes(method) || !agents[protocol!]) {
    return fetch(input, init);
  }
  const headers = headerRecord(init?.headers);
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  const transport = protocol === 'https:' ? https : http;
  const send = () =>
    new Promise<Response>((resolve, reject) => {
      const request = transport.request(url, { method, headers, agent: agents[protocol!] }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          try {
            resolve(toResponse(url, res, Buffer.concat(chunks)));
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        });
      });
      request.setTimeout(answerTimeoutMs, () => {
        request.destroy(new Error(`Slack did not answer within ${answerTimeoutMs} ms`));
      });
      request.on('error', (error: NodeJS.ErrnoException) => {
        // A kept-alive connection the server closed while idle fails on first use: the request
        // never reached the server, so it is sent once more on a fresh connection (as Node's
        // documentation advises for `reusedSocket`).
        reject(
          request.reusedSocket && STALE_SOCKET.has(error.code ?? '') ? new StaleSocketError(error) : error,
        );
      });
      request.end(body);
    });
  return send().catch((error: unknown) => {
    if (error instanceof StaleSocketError) return send();
    throw error;
  });
}

const STALE_SOCKET = new Set(['ECONNRESET', 'EPIPE']);

class StaleSocketError extends Error {
  constructor(readonly original: Error) {
    super(original.message, { cause: original });
  }
}

/** A standard Response (status outside 200-599 throws, as fetch would reject). */
function toResponse(url: string, res: http.IncomingMessage, content: Buffer): Response {
  const responseHeaders = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) responseHeaders.append(name, v);
  }
  const status = res.statusCode ?? 0;
  const response = new Response(NULL_BODY.has(status) ? null : content, {
    status,
    statusText: res.statusMessage ?? '',
    headers: responseHeaders,
  });
  Object.defineProperty(response, 'url', { value: url });
  return response;
}
