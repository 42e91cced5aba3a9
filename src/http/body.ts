/**
 * Reads a request body with a byte limit and a deadline, before anything looks at it.
 *
 * A declared Content-Length over the limit is refused without reading a byte; a chunked or
 * under-declared body is counted as it arrives and cut off at the limit, so an unauthenticated
 * client can make the process hold at most `limit` bytes per request (Bolt's own receiver would
 * buffer 4 MB before checking the signature).
 */
import type { IncomingMessage } from 'node:http';

export class BodyError extends Error {
  constructor(
    readonly status: 400 | 408 | 413,
    message: string,
  ) {
    super(message);
    this.name = 'BodyError';
  }
}

export interface BodyLimits {
  /** Largest body accepted, in bytes. */
  limit: number;
  /** The whole body must arrive within this many milliseconds of the headers. */
  timeoutMs: number;
}

/** Throws a 413 BodyError when Content-Length already says the body is too large. */
export function checkDeclaredLength(req: IncomingMessage, limit: number): void {
  const declared = req.headers['content-length'];
  if (declared === undefined) return;
  if (!/^\d+$/.test(declared)) throw new BodyError(400, 'invalid content-length');
  if (Number(declared) > limit) throw new BodyError(413, `body of ${declared} bytes is over ${limit}`);
}

export function readBody(req: IncomingMessage, { limit, timeoutMs }: BodyLimits): Promise<Buffer> {
  try {
    checkDeclaredLength(req, limit);
  } catch (error) {
    return Promise.reject(error as Error);
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(
      () => fail(new BodyError(408, `body not complete within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const cleanup = () => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const fail = (error: Error) => {
      cleanup();
      chunks.length = 0;
      // Stop buffering; what is still in flight is discarded, not kept.
      req.resume();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return fail(new BodyError(413, `body over ${limit} bytes`));
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => fail(new BodyError(400, `body read failed: ${error.message}`));
    const onClose = () => {
      if (!req.complete) fail(new BodyError(400, 'client went away before the body was complete'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
