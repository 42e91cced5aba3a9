import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { boltLogger } from '../../../src/slack/bolt-logger.js';

function capture(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ level, destination }) };
}

describe("Bolt's logger on pino", () => {
  it('does not even format the lines of a level that is off', () => {
    const { lines, logger } = capture('info');
    let formatted = 0;
    const costly = {
      toString() {
        formatted += 1;
        return 'body';
      },
    };
    boltLogger(logger).debug('ack() call begins (body:', costly, ')');
    expect(formatted).toBe(0);
    expect(lines).toEqual([]);
  });

  it('writes the lines of a level that is on, an Error as err, redacted', () => {
    const { lines, logger } = capture('debug');
    const log = boltLogger(logger);
    log.debug('token', 'xoxb-1234567890-abcdef');
    log.error('Slack API error:', new Error('invalid_auth'));
    expect(lines[0]).toMatchObject({ level: 'debug', component: 'bolt', msg: 'token [Redacted]' });
    expect(lines[1]).toMatchObject({
      level: 'error',
      msg: 'Slack API error:',
      err: { message: 'invalid_auth' },
    });
  });
});
