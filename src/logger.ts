import { pino, type Logger, type LoggerOptions } from 'pino';

/**
 * Credentials must never reach a log line: Slack tokens, the signing secret, AWS keys and
 * session tokens, the Credentials object STS returns, request signatures, passwords.
 *
 * Every log object goes through pino's `formatters.log` before it is written. There, at any depth:
 * 1. `Error` objects are serialized first with pino's own err serializer (message, stack, causes,
 *    aggregate errors, custom properties), so what an error carries is cleaned like the rest;
 * 2. a value under a credential-named key is replaced with `[Redacted]`, whatever its type;
 * 3. Slack token shapes (`xox[abposr]-…`, `xapp-…`) are scrubbed from every string, including
 *    the message.
 */
export const CENSOR = '[Redacted]';

/** Key names whose values are secrets (matched case-insensitively, anywhere in the name). */
export const SECRET_KEY_PATTERN =
  /token|secret|passw(or)?d|passphrase|credential|authorization|cookie|signature|private_?key|api_?key/i;

/** Slack tokens have recognisable shapes; scrub them even from free text. */
const TOKEN_PATTERN = /\b(xox[abposr]|xapp)-[A-Za-z0-9-]{8,}/g;

/**
 * pino's own path redaction, for what formatters.log does not see: child-logger bindings (pino
 * skips the bindings formatter for children). Log objects are cleaned at any depth regardless.
 */
const BINDING_SECRET_KEYS = [
  'token',
  'botToken',
  'appToken',
  'signingSecret',
  'secretAccessKey',
  'SecretAccessKey',
  'sessionToken',
  'SessionToken',
  'password',
  'authorization',
  'credentials',
  'Credentials',
];
export const REDACT_PATHS = [...BINDING_SECRET_KEYS, ...BINDING_SECRET_KEYS.map((k) => `*.${k}`)];

/** Deeper than this, values are summarised; log objects are never that deep on purpose. */
const MAX_DEPTH = 12;

function scrubText(text: string): string {
  return text.replace(TOKEN_PATTERN, CENSOR);
}

function clean(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) value = pino.stdSerializers.err(value);
  const object = value as object;
  if (seen.has(object)) return '[Circular]';
  if (ArrayBuffer.isView(object)) return `[${object.constructor.name} ${object.byteLength} bytes]`;
  if (depth >= MAX_DEPTH) return '[Truncated]';
  seen.add(object);
  try {
    if (Array.isArray(object)) return object.map((v) => clean(v, depth + 1, seen));
    if (object instanceof Map) return clean(Object.fromEntries(object), depth, seen);
    if (object instanceof Set) return clean([...object], depth, seen);
    if (typeof (object as { toJSON?: unknown }).toJSON === 'function') {
      const json = (object as { toJSON: () => unknown }).toJSON();
      if (json !== object) return clean(json, depth + 1, seen);
    }
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(object)) {
      out[key] =
        SECRET_KEY_PATTERN.test(key) && v !== undefined && v !== null ? CENSOR : clean(v, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(object);
  }
}

function errorOf(arg: unknown): { message: string } | undefined {
  if (arg instanceof Error) return arg;
  const err = arg !== null && typeof arg === 'object' ? (arg as { err?: unknown }).err : undefined;
  return err instanceof Error ? err : undefined;
}

/** The log object with errors serialized, credential-named keys and token shapes redacted. */
export function redactLogObject(object: Record<string, unknown>): Record<string, unknown> {
  return clean(object, 0, new WeakSet()) as Record<string, unknown>;
}

export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  const loggerOptions: LoggerOptions = {
    level: options.level ?? 'info',
    base: { service: 'aws-access-bot' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: CENSOR },
    // formatters.log has already serialized errors (pino's err serializer); running it again on
    // the serialized copy would lose the error's type.
    serializers: { err: (value: unknown) => value },
    formatters: {
      level: (label) => ({ level: label }),
      log: redactLogObject,
    },
    hooks: {
      logMethod(args, method) {
        const scrubbed: unknown[] = args.map((arg) => (typeof arg === 'string' ? scrubText(arg) : arg));
        // Without a message pino uses the error's own message, which formatters.log never sees.
        const err = errorOf(scrubbed[0]);
        if (err && typeof scrubbed[1] !== 'string') scrubbed.splice(1, 0, scrubText(err.message));
        method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
  };
  return options.destination ? pino(loggerOptions, options.destination) : pino(loggerOptions);
}

export type { Logger };
