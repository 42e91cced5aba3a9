import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/load-config.js';
import { hashTagOf } from '../../../src/config/schema/redis.js';
import { ConfigError } from '../../../src/errors.js';

const base = [
  'slack:',
  '  channels: { approvals: C0APPROVE, audit: C0AUDIT, security: C0SECURITY }',
  'aws: {}',
  'approval:',
  '  rules:',
  '    - name: default',
  '      approvers: { users: [U0ALICE01] }',
].join('\n');

function parse(redis: string) {
  return parseConfigText('redis.yaml', `${base}\n${redis}\n`);
}

function issuesOf(redis: string): string {
  try {
    parse(redis);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

describe('redis topology in the config', () => {
  it('a single Redis (REDIS_URL) by default', () => {
    const { redis } = parse('');
    expect(redis).toEqual({ prefix: 'aab' });
  });

  it('accepts a cluster with a hash-tagged prefix', () => {
    const { redis } = parse(
      'redis: { prefix: "{aab}", cluster: { nodes: [{ host: r1, port: 7000 }, { host: r2, port: 7001 }] } }',
    );
    expect(redis.cluster?.nodes).toHaveLength(2);
  });

  it('refuses a cluster whose prefix has no hash tag, naming redis.prefix', () => {
    const message = issuesOf('redis: { prefix: aab, cluster: { nodes: [{ host: r1, port: 7000 }] } }');
    expect(message).toMatch(/redis\.prefix/);
    expect(message).toMatch(/hash tag such as "\{aab\}"/);
    // An empty tag hashes the whole key: no tag at all.
    expect(issuesOf('redis: { prefix: "a{}b", cluster: { nodes: [{ host: r1, port: 7000 }] } }')).toMatch(
      /hash tag/,
    );
  });

  it('accepts Sentinel (any prefix) and refuses Sentinel together with a cluster', () => {
    const { redis } = parse(
      'redis: { sentinel: { name: mymaster, sentinels: [{ host: s1, port: 26379 }, { host: s2, port: 26379 }] } }',
    );
    expect(redis.sentinel).toEqual({
      name: 'mymaster',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
    });
    expect(
      issuesOf(
        'redis: { prefix: "{a}", cluster: { nodes: [{ host: r1, port: 1 }] }, sentinel: { name: m, sentinels: [{ host: s, port: 2 }] } }',
      ),
    ).toMatch(/mutually exclusive/);
    expect(issuesOf('redis: { sentinel: { sentinels: [{ host: s, port: 2 }] } }')).toMatch(
      /redis\.sentinel\.name/,
    );
  });

  it('hashTagOf follows the cluster spec: first { to the first } after it, not empty', () => {
    expect(hashTagOf('{aab}')).toBe('aab');
    expect(hashTagOf('x{aab}:y{z}')).toBe('aab');
    expect(hashTagOf('aab')).toBeUndefined();
    expect(hashTagOf('a{}b{c}')).toBeUndefined();
    expect(hashTagOf('a{b')).toBeUndefined();
  });
});
