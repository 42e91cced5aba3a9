/**
 * `validate` refuses configurations that would open an escalation path: break-glass reachable by
 * everyone, two Slack users mapped to one person, a shared role nobody is pinned to, rules that
 * would match accounts by a name Organizations may change.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { breakGlassIssues } from '../../../src/config/break-glass-checks.js';
import { parseConfigText } from '../../../src/config/load-config.js';
import { issuesOf } from '../../support/config-issues.js';

const example = readFileSync('config/example.yaml', 'utf8');
const templates = [
  { name: 'readonly', breakGlass: false },
  { name: 'developer', breakGlass: false },
  { name: 'admin-breakglass', breakGlass: true },
];

describe('break-glass in the config (finding 1)', () => {
  it('the shipped example is valid and allows break-glass to a named group only', () => {
    const config = parseConfigText('config/example.yaml', example);
    expect(breakGlassIssues('config/example.yaml', config, templates)).toEqual([]);
    const allowances = config.approval.rules.flatMap((r) => (r.breakGlass ? [r.breakGlass] : []));
    expect(allowances.length).toBeGreaterThan(0);
    for (const a of allowances) expect(a.requesterGroups.length).toBeGreaterThan(0);
    expect(
      config.approval.rules.filter((r) => r.autoApprove).flatMap((r) => r.match.templates ?? []),
    ).not.toContain('admin-breakglass');
  });

  it('refuses a break-glass allowance without requester groups', () => {
    const text = example.replace('requesterGroups: [S0ONCALL]', 'requesterGroups: []');
    expect(issuesOf(text).join('\n')).toContain(
      'approval.rules[0].breakGlass.requesterGroups: break-glass must be limited to named requester groups',
    );
  });

  it('refuses an autoApprove rule that names a break-glass template (reachable by everyone)', () => {
    const text = example.replace(
      '      breakGlass: # granted at once',
      '      autoApprove: true\n      breakGlass: # granted at once',
    );
    const config = parseConfigText('bad.yaml', text);
    const issues = breakGlassIssues('bad.yaml', config, templates);
    expect(issues.map((i) => `${i.path}: ${i.message}`).join('\n')).toContain(
      'approval.rules.0.match.templates.0: autoApprove would grant break-glass template "admin-breakglass"',
    );
  });

  it('refuses an allowance for a template that is not break-glass', () => {
    const text = example
      .replace(
        'templates: [admin-breakglass]\n      approvers',
        'templates: [admin-breakglass, readonly]\n      approvers',
      )
      .replace(
        '        templates: [admin-breakglass]\n        requesterGroups',
        '        templates: [readonly]\n        requesterGroups',
      );
    const config = parseConfigText('bad.yaml', text);
    expect(breakGlassIssues('bad.yaml', config, templates)[0]?.message).toContain(
      'template "readonly" is not a break-glass template',
    );
  });
});

describe('identities in the config (finding 2)', () => {
  it('refuses two Slack users mapped to one principal', () => {
    const text = example.replace(
      'principal: arn:aws:iam::999999999999:user/bob',
      'principal: arn:aws:iam::999999999999:user/alice',
    );
    expect(issuesOf(text).join('\n')).toContain(
      'identities.map.U0BOB0002.principal: U0BOB0002 and U0ALICE01 are mapped to the same principal',
    );
  });

  it('refuses ${email_local} in the e-mail template', () => {
    const text = example.replace('user/${email}', 'user/${email_local}');
    expect(issuesOf(text).join('\n')).toContain(
      'identities.byEmail.principalTemplate: unknown variable ${email_local}',
    );
  });

  it('refuses a shared role principal without the session name that pins the person', () => {
    const text = example.replace(
      'principal: arn:aws:iam::999999999999:user/bob',
      'principal: arn:aws:iam::999999999999:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Dev_0123',
    );
    expect(issuesOf(text).join('\n')).toContain(
      'identities.map.U0BOB0002.sessionName: is required for a role principal',
    );
    const pinned = text.replace(
      'AWSReservedSSO_Dev_0123',
      'AWSReservedSSO_Dev_0123\n      sessionName: bob@example.com',
    );
    expect(() => parseConfigText('ok.yaml', pinned)).not.toThrow();
  });
});

describe('account references in rules (finding 11)', () => {
  it('refuses a rule account that names no configured account', () => {
    const text = example.replace('accounts: [production]', 'accounts: [prodution]');
    expect(issuesOf(text).join('\n')).toContain(
      'approval.rules[1].match.accounts[0]: "prodution" is neither a 12-digit account id nor the name or alias of exactly one account in aws.accounts',
    );
  });
});
