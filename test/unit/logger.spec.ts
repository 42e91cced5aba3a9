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

describe('logging: errors and deep objects (finding 14)', () => {
  it('redacts tokens inside Error objects: message, custom properties and causes', () => {
    const { logger, lines } = capture();
    const cause = new Error('upstream said invalid_auth for xoxp-5555-6666-causecause');
    const error = Object.assign(new Error('call failed with token xoxb-1234-5678-errormsg', { cause }), {
      config: { headers: { Authorization: 'Bearer xoxb-9999-8888-headerhdr' }, token: 'plain-secret-value' },
      data: { ok: false, error: 'invalid_auth' },
    });
    logger.error({ err: error }, 'slack call failed');
    logger.error(error);
    logger.warn({ error, context: { id: 'r-1' } }, 'a side effect failed');
    const output = lines.join('');
    for (const secret of ['xoxb-1234', 'xoxp-5555', 'xoxb-9999', 'plain-secret-value']) {
      expect(output).not.toContain(secret);
    }
    const [first, second, third] = lines.map((l) => JSON.parse(l));
    expect(first.err.type).toBe('Error');
    expect(first.err.message).toContain('[Redacted]');
    expect(first.err.stack).toMatch(/^Error: call failed with token \[Redacted\]/);
    expect(first.err.config.token).toBe('[Redacted]');
    expect(first.err.data.error).toBe('invalid_auth');
    expect(second.msg).toContain('call failed with token [Redacted]');
    expect(third.error.message).toContain('[Redacted]');
    expect(third.context.id).toBe('r-1');
  });

  it('redacts credential-named keys at any depth, through Maps and arrays, and in child bindings', () => {
    const { logger, lines } = capture();
    const child = logger.child({ auth: { token: 'child-binding-token' } });
    child.info(
      {
        a: { b: { c: { d: { password: 'deep-password', SessionToken: 'deep-session', keep: 'visible' } } } },
        list: [{ x: [{ clientSecret: 'in-array-secret' }] }],
        map: new Map([['aws_secret_access_key', 'in-map-secret']]),
        headers: { 'x-slack-signature': 'v0=abcdef', cookie: 'sid=1' },
      },
      'deep',
    );
    const line = lines.join('');
    for (const secret of [
      'child-binding-token',
      'deep-password',
      'deep-session',
      'in-array-secret',
      'in-map-secret',
      'v0=abcdef',
      'sid=1',
    ]) {
      expect(line).not.toContain(secret);
    }
    const parsed = JSON.parse(line);
    expect(parsed.a.b.c.d).toEqual({ password: '[Redacted]', SessionToken: '[Redacted]', keep: 'visible' });
    expect(parsed.list[0].x[0].clientSecret).toBe('[Redacted]');
    expect(parsed.auth.token).toBe('[Redacted]');
  });

  it('logs circular and very deep objects without throwing', () => {
    const { logger, lines } = capture();
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    let deep: Record<string, unknown> = { token: 'bottom-token' };
    for (let i = 0; i < 50; i += 1) deep = { next: deep };
    logger.info({ loop, deep }, 'odd shapes');
    const parsed = JSON.parse(lines.join(''));
    expect(parsed.loop.self).toBe('[Circular]');
    expect(lines.join('')).not.toContain('bottom-token');
  });
});
