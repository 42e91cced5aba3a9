import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

describe('logging', () => {
  it('redacts Slack tokens, the signing secret, AWS secret keys and session tokens', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        slackBotToken: 'xoxb-1111-2222-abcdef',
        signingSecret: 'shh-signing-secret',
        env: { slackAppToken: 'xapp-1-A111-222-abc' },
        sts: {
          Credentials: { AccessKeyId: 'ASIAXXX', SecretAccessKey: 'aws-secret', SessionToken: 'aws-session' },
        },
        creds: { secretAccessKey: 'aws-secret-2', sessionToken: 'aws-session-2' },
      },
      'starting',
    );
    const line = lines.join('');
    for (const secret of ['xoxb-1111', 'shh-signing-secret', 'xapp-1-A111', 'aws-secret', 'aws-session']) {
      expect(line).not.toContain(secret);
    }
    const parsed = JSON.parse(line);
    expect(parsed.slackBotToken).toBe('[Redacted]');
    expect(parsed.signingSecret).toBe('[Redacted]');
    expect(parsed.creds.secretAccessKey).toBe('[Redacted]');
    expect(parsed.sts.Credentials).toBe('[Redacted]');
  });

  it('scrubs Slack tokens that appear inside free text', () => {
    const { logger, lines } = capture();
    logger.warn(
      { detail: 'call failed with token xoxb-1234-5678-abcdefgh' },
      'bad token xoxp-9999-8888-zzzzzzzz',
    );
    const line = lines.join('');
    expect(line).not.toMatch(/xox[bp]-\d/);
    expect(line).toContain('[Redacted]');
  });
});
