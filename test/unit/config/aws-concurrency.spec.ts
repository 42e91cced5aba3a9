import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/load-config.js';
import { accountCallLimits } from '../../../src/aws/create-aws-services.js';
import { issuesOf } from '../../support/config-issues.js';

const withAws = (aws: string) =>
  [
    'slack:',
    '  channels: { approvals: C0APPROVE, audit: C0AUDIT, security: C0SECURITY }',
    `aws: ${aws}`,
    'approval:',
    '  rules:',
    '    - name: default',
    '      approvers: { users: [U0ALICE01] }',
    '',
  ].join('\n');

describe('aws.concurrency', () => {
  it('defaults to 50 accounts at once, 4 IAM calls in flight and 8 calls a second per account', () => {
    const config = parseConfigText('minimal.yaml', withAws('{}'));
    expect(config.aws.concurrency).toEqual({ accounts: 50, perAccount: 4, callsPerSecond: 8 });
  });

  it('takes each bound from the file, and 0 turns the per-account rate limit off', () => {
    const config = parseConfigText(
      'fleet.yaml',
      withAws('{ concurrency: { accounts: 10, perAccount: 2, callsPerSecond: 0 } }'),
    );
    expect(config.aws.concurrency).toEqual({ accounts: 10, perAccount: 2, callsPerSecond: 0 });
    const limiter = accountCallLimits(config).forAccount('111111111111');
    expect(limiter.concurrency).toBe(2);
    expect(limiter.intervalMs).toBe(0);
    expect(accountCallLimits(parseConfigText('x.yaml', withAws('{}'))).forAccount('1').intervalMs).toBe(125);
  });

  it('refuses no concurrency, fractions, unknown fields and negative rates, naming the field', () => {
    expect(issuesOf(withAws('{ concurrency: { accounts: 0 } }')).join('\n')).toMatch(
      /aws\.concurrency\.accounts/,
    );
    expect(issuesOf(withAws('{ concurrency: { perAccount: 1.5 } }')).join('\n')).toMatch(
      /aws\.concurrency\.perAccount/,
    );
    expect(issuesOf(withAws('{ concurrency: { callsPerSecond: -1 } }')).join('\n')).toMatch(
      /aws\.concurrency\.callsPerSecond/,
    );
    expect(issuesOf(withAws('{ concurrency: { overall: 5 } }')).join('\n')).toMatch(/overall/);
  });
});
