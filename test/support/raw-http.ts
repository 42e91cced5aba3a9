/**
 * HTTP requests at the socket level, for what fetch cannot do: declare a Content-Length and send
 * less, stream a chunked body slowly, and see the answer arrive before the body is finished.
 */
import { request, type Agent } from 'node:http';

export interface RawAnswer {
  status: number;
  text: string;
  /** Body bytes the client had written when the answer's headers arrived. */
  sentBeforeAnswer: number;
  elapsedMs: number;
}

export interface RawPostOptions {
  headers: Record<string, string>;
  /** Chunks written one after another (each waits for the socket to take the previous one). */
  chunks: Buffer[];
  /** Pause between chunks. */
  chunkDelayMs?: number;
  /** End the request after the chunks (default true); false leaves the body unfinished. */
  end?: boolean;
  /** Give up after this long without an answer. */
  timeoutMs?: number;
  agent?: Agent;
  path?: string;
}

/** POSTs and resolves with the first answer, even while the body is still being written. */
export function rawPost(baseUrl: string, options: RawPostOptions): Promise<RawAnswer> {
  const url = new URL(options.path ?? '/slack/events', baseUrl);
  const started = performance.now();
  return new Promise<RawAnswer>((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request(url, { method: 'POST', headers: options.headers, agent: options.agent });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer within ${options.timeoutMs ?? 5000} ms (sent ${sent} bytes)`));
    }, options.timeoutMs ?? 5000);
    req.on('response', (res) => {
      answered = true;
      const sentBeforeAnswer = sent;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      const done = () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          text: Buffer.concat(chunks).toString('utf8'),
          sentBeforeAnswer,
          elapsedMs: performance.now() - started,
        });
        if (!req.writableEnded) req.destroy();
      };
      res.on('end', done);
      res.on('error', done);
      res.on('aborted', done);
    });
    req.on('error', (error) => {
      if (answered) return;
      clearTimeout(timer);
      reject(error);
    });
    void (async () => {
      for (const chunk of options.chunks) {
        if (answered || req.destroyed) return;
        await new Promise<void>((r) => req.write(chunk, () => r()));
        sent += chunk.length;
        if (options.chunkDelayMs) await new Promise((r) => setTimeout(r, options.chunkDelayMs));
      }
      if (options.end !== false && !answered && !req.destroyed) req.end();
    })();
  });
}
