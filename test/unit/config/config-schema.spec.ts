import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
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

describe('defaults of the config file', () => {
  it('a section left out gets the default of every field in it, nested objects included', () => {
    const config = parseConfigText('minimal.yaml', minimal);
    expect(config.durations).toEqual({
      min: 900,
      max: 43200,
      default: 3600,
      expiryWarning: 600,
      maxExtensions: 3,
      maxTotal: 86400,
      provisioningTimeout: 600,
    });
    expect(config.hygiene.passwordPolicy).toMatchObject({ minimumLength: 14, reusePrevention: 24 });
    expect(config.identities.byEmail).toEqual({
      enabled: false,
      principalTemplate: 'arn:aws:iam::${identity_account_id}:user/${email}',
    });
    expect(config.aws.organizations).toEqual({ enabled: false, cacheTtl: 900, pageSize: 20 });
    expect(config.approval.rules[0]).toMatchObject({
      match: {},
      reason: { required: true },
      extensions: { autoApprove: false },
      reminderAfter: 1800,
      escalateAfter: 7200,
    });
    expect(config.redis.prefix).toBe('aab');
    expect(config.audit).toEqual({});
  });

  it('leaving a section out is the same as writing it empty', () => {
    const empty = parseConfigText(
      'empty.yaml',
      `${minimal}identities: { byEmail: {} }\ntemplates: {}\ndurations: {}\nschedules: {}\nhygiene: { passwordPolicy: {} }\nrequests: {}\nredis: {}\naudit: {}\n`,
    );
    expect(empty).toEqual(parseConfigText('minimal.yaml', minimal));
  });

  it('a section written in part keeps the defaults of the fields it leaves out', () => {
    const config = parseConfigText(
      'partial.yaml',
      `${minimal}hygiene:\n  mode: enforce\n  passwordPolicy: { minimumLength: 20 }\ndurations: { max: 8h }\n`,
    );
    expect(config.hygiene).toMatchObject({ mode: 'enforce', unusedKeyDays: 90, gracePeriodDays: 7 });
    expect(config.hygiene.passwordPolicy).toMatchObject({ minimumLength: 20, requireSymbols: true });
    expect(config.durations).toMatchObject({ max: 8 * 3600, default: 3600, maxTotal: 86400 });
  });

  it('two parsed configs never share a default object', () => {
    const first = parseConfigText('minimal.yaml', minimal);
    first.hygiene.passwordPolicy.minimumLength = 99;
    first.aws.organizations.enabled = true;
    const second = parseConfigText('minimal.yaml', minimal);
    expect(second.hygiene.passwordPolicy.minimumLength).toBe(14);
    expect(second.aws.organizations.enabled).toBe(false);
  });

  it('writes no default twice: no object repeats its fields’ defaults', () => {
    const dir = path.resolve('src/config/schema');
    const repeated = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) =>
        (readFileSync(path.join(dir, f), 'utf8').match(/\.default\(\{[^}]/g) ?? []).map(() => f),
      );
    expect(repeated).toEqual([]);
  });
});

describe('rules across fields of the config file', () => {
  it('refuses duration limits out of order, naming each limit', () => {
    const issues = issuesOf(`${minimal}durations: { min: 2h, default: 1h, max: 30m, maxTotal: 10m }\n`);
    expect(issues).toEqual(
      expect.arrayContaining([
        'bad.yaml: durations.min: must not exceed durations.default',
        'bad.yaml: durations.default: must not exceed durations.max',
        'bad.yaml: durations.max: must not exceed durations.maxTotal',
      ]),
    );
  });

  it('refuses two rules with one name', () => {
    const text = `${minimal}    - name: default\n      approvers: { users: [U0BOB0002] }\n`;
    expect(issuesOf(text)).toContain('bad.yaml: approval.rules[1].name: duplicate rule name "default"');
  });

  it('refuses escalating before the reminder', () => {
    const text = minimal.replace(
      'approvers: { users: [U0ALICE01] }',
      'approvers: { users: [U0ALICE01] }\n      reminderAfter: 3h\n      escalateAfter: 1h',
    );
    expect(issuesOf(text)).toContain(
      'bad.yaml: approval.rules[0].escalateAfter: must not be earlier than reminderAfter',
    );
  });

  it('refuses a break-glass template outside the templates the rule matches', () => {
    const text = minimal.replace(
      'approvers: { users: [U0ALICE01] }',
      [
        'approvers: { users: [U0ALICE01] }',
        '      match: { templates: [readonly] }',
        '      breakGlass: { templates: [admin-breakglass], requesterGroups: [S0ONCALL] }',
      ].join('\n'),
    );
    expect(issuesOf(text)).toContain(
      `bad.yaml: approval.rules[0].breakGlass.templates[0]: "admin-breakglass" is not in this rule's match.templates, so the allowance could never apply`,
    );
  });

  it('refuses two Slack users with one e-mail', () => {
    const text = [
      minimal,
      'identities:',
      '  map:',
      '    U0ALICE01: { principal: "arn:aws:iam::111111111111:user/alice", email: alice@example.com }',
      '    U0ALICE02: { principal: "arn:aws:iam::111111111111:user/alice2", email: Alice@example.com }',
      '',
    ].join('\n');
    expect(issuesOf(text)).toContain(
      'bad.yaml: identities.map.U0ALICE02.email: U0ALICE02 and U0ALICE01 have the same e-mail: one person may have one Slack account in the map',
    );
  });
});
