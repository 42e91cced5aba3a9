import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/load-config.js';
import { issuesOf } from '../../support/config-issues.js';

const minimal = [
  'slack:',
  '  channels: { approvals: C0APPROVE, audit: C0AUDIT, security: C0SECURITY }',
  'aws: {}',
  'approval:',
  '  rules:',
  '    - name: default',
  '      approvers: { users: [U0ALICE01] }',
  '',
].join('\n');

describe('the posture config section', () => {
  it('has defaults when left out', () => {
    const { posture } = parseConfigText('minimal.yaml', minimal);
    expect(posture).toMatchObject({ enabled: true, unusedRoleDays: 90, trustedAccounts: [], exemptions: [] });
    expect(posture.alerts.queueUrl).toBeUndefined();
    expect(posture.alerts.events).toContain('CreateAccessKey');
    expect(posture.alerts.groupWindow).toBe(60);
  });

  it('accepts exemptions by ARN pattern and by tag, each with a reason', () => {
    const { posture } = parseConfigText(
      'ok.yaml',
      `${minimal}posture:
  unusedRoleDays: 30
  exemptions:
    - { arn: 'arn:aws:iam::*:role/break-glass-*', kinds: [unused-role], reason: kept for emergencies }
    - { tag: { key: posture-exempt }, reason: reviewed by security }
  alerts: { queueUrl: 'https://sqs.us-east-1.amazonaws.com/111111111111/iam-changes', groupWindow: 2m }
`,
    );
    expect(posture.exemptions).toHaveLength(2);
    expect(posture.alerts.groupWindow).toBe(120);
  });

  it('refuses an exemption without a target or a reason, and unknown kinds, with the path', () => {
    const issues = issuesOf(`${minimal}posture:
  unusedRoleDays: 0
  exemptions:
    - { kinds: [unused-role], reason: why }
    - { arn: 'arn:aws:iam::*:role/x' }
    - { arn: 'role/x', kinds: [unused-user], reason: r }
  trustedAccounts: ['12']
`);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^bad\.yaml: posture\.unusedRoleDays: /),
        'bad.yaml: posture.exemptions[0]: an exemption needs `arn` or `tag`',
        expect.stringMatching(/^bad\.yaml: posture\.exemptions\[1\]\.reason: /),
        expect.stringMatching(/^bad\.yaml: posture\.exemptions\[2\]\.arn: must be an ARN pattern/),
        expect.stringMatching(/^bad\.yaml: posture\.exemptions\[2\]\.kinds\[0\]: /),
        'bad.yaml: posture.trustedAccounts[0]: must be a 12-digit AWS account id',
      ]),
    );
  });
});
