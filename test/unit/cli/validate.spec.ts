import { systemClock } from '../../../src/clock.js';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readEnvOptions } from '../../../src/config/env.js';
import type { CliIo } from '../../../src/cli/io.js';
import { runCli } from '../../../src/cli/run-cli.js';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const cli: CliIo = {
    env: readEnvOptions({}),
    clock: systemClock,
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  };
  return { cli, out, err };
}

describe('aws-access-bot validate', () => {
  it('exits 0 for the example config', async () => {
    const { cli, out } = io();
    expect(await runCli(['validate', '--config', 'config/example.yaml'], cli)).toBe(0);
    expect(out.join('\n')).toContain('config/example.yaml: ok');
  });

  it('warns about persistence paths only where accepted on the shipped templates (admin-breakglass), exit code 0', async () => {
    const { cli, err } = io();
    expect(await runCli(['validate', '--config', 'config/example.yaml'], cli)).toBe(0);
    const warnings = err.filter((l) => l.startsWith('warning: '));
    expect(warnings.length).toBeGreaterThan(0);
    expect(
      warnings.filter(
        (l) => !/^warning: templates\/admin-breakglass\.yaml: admin-breakglass: allows \S+ \(.+\)$/.test(l),
      ),
    ).toEqual([]);
    expect(warnings).toContain(
      'warning: templates/admin-breakglass.yaml: admin-breakglass: allows iam:PassRole (role chaining)',
    );
    expect(warnings.filter((l) => l.includes('(new credentials)'))).toEqual([]);
  });

  it('warns naming the template and the action when a template allows iam:CreateAccessKey, and still exits 0', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aab-'));
    cpSync('templates', path.join(dir, 'templates'), { recursive: true });
    const leaky = path.join(dir, 'templates', 'leaky.yaml');
    writeFileSync(
      leaky,
      JSON.stringify({
        name: 'leaky',
        description: 'Manages access keys',
        boundary: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: ['iam:CreateAccessKey', 'iam:ListAccessKeys'], Resource: '*' },
          ],
        },
        inlinePolicy: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'iam:*AccessKey*', Resource: '*' }],
        },
        defaultDuration: '1h',
        maxDuration: '1h',
      }),
    );
    const config = path.join(dir, 'config.yaml');
    writeFileSync(
      config,
      readFileSync('config/example.yaml', 'utf8').replace('directory: ../templates', 'directory: templates'),
    );
    const { cli, err } = io();
    expect(await runCli(['validate', '--config', config], cli)).toBe(0);
    expect(err.filter((l) => l.includes(': leaky: '))).toEqual([
      `warning: ${leaky}: leaky: allows iam:CreateAccessKey (new credentials)`,
    ]);
  });

  it('on-call: a break-glass template in onCallAutoApprove exits 1; a missing API token is only a warning', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aab-'));
    cpSync('templates', path.join(dir, 'templates'), { recursive: true });
    const withOnCall = (templates: string) =>
      readFileSync('config/example.yaml', 'utf8')
        .replace('directory: ../templates', 'directory: templates')
        .replace(
          '        users: [U0ALICE01]\n',
          [
            '        users: [U0ALICE01]',
            '        onCall: [{ provider: pagerduty, schedule: PSCHED1 }]',
            '      onCallAutoApprove:',
            '        schedules: [{ provider: pagerduty, schedule: PSCHED1 }]',
            `        templates: [${templates}]`,
            '        accounts: [sandbox]',
            '',
          ].join('\n'),
        );
    const good = path.join(dir, 'good.yaml');
    writeFileSync(good, withOnCall('readonly'));
    const ok = io();
    expect(await runCli(['validate', '--config', good], ok.cli)).toBe(0);
    expect(ok.err).toContain(
      `warning: ${good}: approval.rules.3.approvers.onCall.0.provider: schedule "PSCHED1" is in pagerduty, but PAGERDUTY_API_TOKEN is not set (environment, or the chart's Secret); without it nobody could be confirmed on call`,
    );
    const withToken = io();
    const cli = { ...withToken.cli, env: readEnvOptions({ PAGERDUTY_API_TOKEN: 'pd' }) };
    expect(await runCli(['validate', '--config', good], cli)).toBe(0);
    expect(withToken.err.filter((l) => l.includes('PAGERDUTY_API_TOKEN'))).toEqual([]);

    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, withOnCall('admin-breakglass'));
    const refused = io();
    expect(await runCli(['validate', '--config', bad], refused.cli)).toBe(1);
    expect(refused.err.join('\n')).toContain(
      `${bad}: approval.rules.3.onCallAutoApprove.templates.0: template "admin-breakglass" is a break-glass template`,
    );
  });

  it('exits 1 and names the file and the field for a misspelt key', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aab-'));
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(
      file,
      readFileSync('config/example.yaml', 'utf8').replace('brokerRoleName:', 'brokerRolName:'),
    );
    const { cli, err } = io();
    expect(await runCli(['validate', '--config', file], cli)).toBe(1);
    expect(err.join('\n')).toContain(`${file}: aws.brokerRolName: unknown field`);
  });

  it('exits 1 and names the field for a wrong type', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aab-'));
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(
      file,
      readFileSync('config/example.yaml', 'utf8').replace(
        'enabled: true # discover',
        'enabled: "yes" # discover',
      ),
    );
    const { cli, err } = io();
    expect(await runCli(['validate', '--config', file], cli)).toBe(1);
    expect(err.join('\n')).toMatch(
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: aws\\.organizations\\.enabled: .*boolean`),
    );
  });

  it('exits 2 on usage errors and 0 with --help', async () => {
    const a = io();
    expect(await runCli(['validate', '--nope'], a.cli)).toBe(2);
    expect(a.err.join('\n')).toMatch(/--help/);
    const b = io();
    expect(await runCli(['start', '--role', 'boss'], b.cli)).toBe(2);
    const c = io();
    expect(await runCli(['validate', '--help'], c.cli)).toBe(0);
    expect(c.out.join('\n')).toContain('Usage: aws-access-bot validate');
    const d = io();
    expect(await runCli([], d.cli)).toBe(2);
  });
});
