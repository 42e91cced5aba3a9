import { LogLevel, type Logger as SlackLogger } from '@slack/bolt';
import type { Logger } from '../logger.js';

type Method = 'debug' | 'info' | 'warn' | 'error';

/**
 * Bolt's Logger interface backed by our pino logger, so Bolt's output is redacted JSON too. An
 * Error Bolt passes along (`logger.error('Slack API error: …', error)`) is logged as `err`, so
 * pino's err serializer and the redaction in src/logger.ts see all of it.
 */
export function boltLogger(logger: Logger): SlackLogger {
  const child = logger.child({ component: 'bolt' });
  let level = LogLevel.INFO;
  const write =
    (method: Method) =>
    (...msg: unknown[]) => {
      // Bolt logs several debug lines per request: skip the formatting when they go nowhere.
      if (!child.isLevelEnabled(method)) return;
      const err = msg.find((m) => m instanceof Error);
      const text = msg
        .filter((m) => m !== err)
        .map(String)
        .join(' ');
      if (err) child[method]({ err }, text || (err as Error).message);
      else child[method](text);
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
