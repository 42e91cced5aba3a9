/**
 * On-call in the config: schedules and the auto-approval are checked with file and field, and a
 * schedule whose provider has no API token stops the start.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { breakGlassIssues } from '../../../src/config/break-glass-checks.js';
import { onCallTokenIssues } from '../../../src/config/on-call-checks.js';
import { parseConfigText } from '../../../src/config/load-config.js';
import type { EnvOptions } from '../../../src/config/env.js';
import { readEnvOptions } from '../../../src/config/env.js';
import { requestSettings } from '../../../src/request-settings.js';
import { issuesOf } from '../../support/config-issues.js';

const example = readFileSync('config/example.yaml', 'utf8');
const templates = [
  { name: 'readonly', breakGlass: false },
  { name: 'developer', breakGlass: false },
  { name: 'admin-breakglass', breakGlass: true },
];

/** The example's default rule, with on-call lines added after its approvers' users. */
function withDefaultRule(lines: string[]): string {
  const anchor = '        users: [U0ALICE01]\n';
  if (!example.includes(anchor)) throw new Error('the example changed');
  return example.replace(anchor, `${anchor}${lines.map((l) => `${l}\n`).join('')}`);
}

const ON_CALL_RULE = [
  '        onCall:',
  '          - { provider: pagerduty, schedule: PSCHED1 }',
  '      onCallAutoApprove:',
  '        schedules: [{ provider: opsgenie, schedule: Platform Primary }]',
  '        templates: [readonly]',
  '        accounts: [sandbox]',
];

const env = (overrides: Partial<EnvOptions> = {}): EnvOptions => ({ ...readEnvOptions({}), ...overrides });

describe('on-call in the config', () => {
  it('accepts schedules as approvers and a limited auto-approval; accounts resolve to ids; defaults for the APIs', () => {
    const config = parseConfigText('ok.yaml', withDefaultRule(ON_CALL_RULE));
    const rule = requestSettings(config).rules.find((r) => r.name === 'default')!;
    expect(rule.approvers.onCall).toEqual([{ provider: 'pagerduty', schedule: 'PSCHED1' }]);
    expect(rule.onCallAutoApprove).toEqual({
      schedules: [{ provider: 'opsgenie', schedule: 'Platform Primary' }],
      templates: ['readonly'],
      accounts: ['333333333333'],
    });
    expect(config.onCall).toEqual({
      pagerduty: { apiUrl: 'https://api.pagerduty.com' },
      opsgenie: { apiUrl: 'https://api.opsgenie.com' },
      cacheFor: 60,
      timeoutMs: 2000,
      attempts: 3,
    });
    expect(breakGlassIssues('ok.yaml', config, templates)).toEqual([]);
  });

  it('a rule whose only approvers are on-call schedules is valid', () => {
    const text = example.replace(
      '        groups: [S0PLATFORM]\n        users: [U0ALICE01]\n',
      '        onCall: [{ provider: opsgenie, schedule: Platform Primary }]\n',
    );
    expect(parseConfigText('ok.yaml', text).approval.rules.at(-1)?.approvers.onCall).toHaveLength(1);
  });

  it('names the file and field of an unknown provider and an empty schedule', () => {
    const issues = issuesOf(
      withDefaultRule([
        '        onCall:',
        '          - { provider: victorops, schedule: X }',
        "          - { provider: pagerduty, schedule: '' }",
      ]),
    );
    expect(
      issues.some((l) => l.startsWith('bad.yaml: approval.rules[3].approvers.onCall[0].provider: ')),
    ).toBe(true);
    expect(
      issues.some((l) => l.startsWith('bad.yaml: approval.rules[3].approvers.onCall[1].schedule: ')),
    ).toBe(true);
  });

  it('refuses an on-call auto-approval without templates or accounts, or naming an account not configured', () => {
    const noLimits = issuesOf(
      withDefaultRule([
        '      onCallAutoApprove:',
        '        schedules: [{ provider: pagerduty, schedule: PSCHED1 }]',
        '        templates: []',
        '        accounts: []',
      ]),
    );
    expect(noLimits).toContain(
      'bad.yaml: approval.rules[3].onCallAutoApprove.templates: on-call auto-approval must be limited to named templates',
    );
    expect(noLimits).toContain(
      'bad.yaml: approval.rules[3].onCallAutoApprove.accounts: on-call auto-approval must be limited to named accounts',
    );
    const unknownAccount = issuesOf(
      withDefaultRule(ON_CALL_RULE.map((l) => l.replace('accounts: [sandbox]', 'accounts: [nowhere]'))),
    );
    expect(unknownAccount.join('\n')).toContain(
      'bad.yaml: approval.rules[3].onCallAutoApprove.accounts[0]: "nowhere"',
    );
  });

  it('refuses unknown and break-glass templates in the on-call auto-approval', () => {
    const text = withDefaultRule(ON_CALL_RULE).replace(
      '        templates: [readonly]\n        accounts',
      '        templates: [admin-breakglass, nosuch]\n        accounts',
    );
    const issues = breakGlassIssues('bad.yaml', parseConfigText('bad.yaml', text), templates);
    expect(issues.map((i) => `${i.file}: ${i.path}: ${i.message}`)).toEqual([
      'bad.yaml: approval.rules.3.onCallAutoApprove.templates.0: template "admin-breakglass" is a break-glass template; on-call auto-approval never applies to it (break-glass is allowed only by breakGlass: { templates, requesterGroups })',
      'bad.yaml: approval.rules.3.onCallAutoApprove.templates.1: no template called "nosuch"',
    ]);
  });

  it('a schedule whose provider has no API token is an issue naming file, field and variable', () => {
    const config = parseConfigText('ok.yaml', withDefaultRule(ON_CALL_RULE));
    const issues = onCallTokenIssues('ok.yaml', config, env());
    expect(issues.map((i) => `${i.file}: ${i.path}: ${i.message}`)).toEqual([
      'ok.yaml: approval.rules.3.approvers.onCall.0.provider: schedule "PSCHED1" is in pagerduty, but PAGERDUTY_API_TOKEN is not set (environment, or the chart\'s Secret); without it nobody could be confirmed on call',
      'ok.yaml: approval.rules.3.onCallAutoApprove.schedules.0.provider: schedule "Platform Primary" is in opsgenie, but OPSGENIE_API_KEY is not set (environment, or the chart\'s Secret); without it nobody could be confirmed on call',
    ]);
    expect(
      onCallTokenIssues('ok.yaml', config, env({ pagerdutyApiToken: 'pd', opsgenieApiKey: 'og' })),
    ).toEqual([]);
  });

  it('an API URL must be https, except on loopback (tests)', () => {
    const text = `${example}\nonCall:\n  pagerduty: { apiUrl: 'http://pagerduty.example.com' }\n  opsgenie: { apiUrl: 'http://127.0.0.1:4010/opsgenie' }\n`;
    expect(issuesOf(text)).toEqual([
      'bad.yaml: onCall.pagerduty.apiUrl: must be https (http only on loopback): the API token travels with every call',
    ]);
  });

  it('reads the tokens from PAGERDUTY_API_TOKEN and OPSGENIE_API_KEY', () => {
    const read = readEnvOptions({ PAGERDUTY_API_TOKEN: ' pd-1 ', OPSGENIE_API_KEY: 'og-1' });
    expect([read.pagerdutyApiToken, read.opsgenieApiKey]).toEqual(['pd-1', 'og-1']);
    expect(readEnvOptions({ PAGERDUTY_API_TOKEN: ' ' }).pagerdutyApiToken).toBeUndefined();
  });
});
