import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/load-config.js';
import { issuesOf } from '../../support/config-issues.js';

const example = readFileSync('config/example.yaml', 'utf8');

describe('configuration', () => {
  it('accepts the example and turns durations into seconds', () => {
    const config = parseConfigText('config/example.yaml', example);
    expect(config.durations.default).toBe(3600);
    expect(config.approval.rules.find((r) => r.name === 'production')?.maxDuration).toBe(4 * 3600);
    expect(config.approval.rules[0]?.ttl).toBe(24 * 3600);
  });

  it('names the file and the misspelt field', () => {
    const text = example.replace('approvalsRequired: 2', 'approvalsRequried: 2');
    expect(issuesOf(text)).toContain('bad.yaml: approval.rules[1].approvalsRequried: unknown field');
  });

  it('names the file and a field with the wrong type', () => {
    const text = example.replace('approvalsRequired: 2', 'approvalsRequired: two');
    const issues = issuesOf(text);
    expect(issues.some((line) => line.startsWith('bad.yaml: approval.rules[1].approvalsRequired: '))).toBe(
      true,
    );
  });

  it('reports every error, not just the first', () => {
    const text = example
      .replace('mode: report', 'mode: sometimes')
      .replace('cacheTtl: 15m', 'cacheTtl: soon');
    const issues = issuesOf(text);
    expect(issues.some((l) => l.startsWith('bad.yaml: hygiene.mode: '))).toBe(true);
    expect(
      issues.some((l) => l.startsWith('bad.yaml: aws.organizations.cacheTtl: "soon" is not a duration')),
    ).toBe(true);
  });

  it('reports YAML syntax errors with the line', () => {
    expect(issuesOf('slack:\n  channels: [unclosed\n')[0]).toMatch(/^bad\.yaml: line \d+: /);
  });

  it('refuses a rule nobody can approve', () => {
    const text = example.replace(
      [
        '    - name: default',
        '      approvers:',
        '        groups: [S0PLATFORM]',
        '        users: [U0ALICE01]',
        '',
      ].join('\n'),
      '    - name: default\n',
    );
    expect(issuesOf(text)).toContain(
      'bad.yaml: approval.rules[3].approvers: needs users, groups or onCall unless autoApprove is true',
    );
  });
});
