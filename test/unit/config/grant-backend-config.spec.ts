import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock.js';
import type { CliIo } from '../../../src/cli/io.js';
import { runCli } from '../../../src/cli/run-cli.js';
import { readEnvOptions } from '../../../src/config/env.js';
import { grantBackendFor } from '../../../src/config/grant-backends.js';
import { parseConfigText } from '../../../src/config/load-config.js';
import { issuesOf } from '../../support/config-issues.js';

const base = (aws: string[], extra: string[] = []) =>
  [
    'slack:',
    '  channels: { approvals: C0APPROVE, audit: C0AUDIT, security: C0SECURITY }',
    'aws:',
    ...aws.map((l) => `  ${l}`),
    ...extra,
    'approval:',
    '  rules:',
    '    - name: default',
    '      approvers: { users: [U0ALICE01] }',
    '',
  ].join('\n');

const IC = [
  'identityCenter:',
  '  instanceArn: arn:aws:sso:::instance/ssoins-1234567890abcdef',
  '  identityStoreId: d-1234567890',
  '  region: eu-west-1',
];

describe('grant backend config', () => {
  it('iam-role is the default backend everywhere', () => {
    const config = parseConfigText('c.yaml', base(['region: us-east-1']));
    expect(config.aws.grantBackend).toBe('iam-role');
    expect(config.aws.identityCenter).toBeUndefined();
    expect(grantBackendFor(config.aws, '111111111111', 'readonly')).toBe('iam-role');
  });

  it('a template setting wins over the account, the account over the default', () => {
    const config = parseConfigText(
      'c.yaml',
      base([
        ...IC,
        'accounts:',
        '  - { id: "111111111111", grantBackend: identity-center }',
        '  - { id: "222222222222" }',
        'templateGrantBackends: { developer: iam-role, ReadOnly: identity-center }',
      ]),
    );
    expect(grantBackendFor(config.aws, '111111111111', 's3-data-reader')).toBe('identity-center');
    expect(grantBackendFor(config.aws, '111111111111', 'developer')).toBe('iam-role');
    expect(grantBackendFor(config.aws, '222222222222', 'readonly')).toBe('identity-center');
    expect(grantBackendFor(config.aws, '222222222222', 'developer')).toBe('iam-role');
  });

  it('identity-center without aws.identityCenter is refused naming each use', () => {
    const issues = issuesOf(
      base([
        'grantBackend: identity-center',
        'accounts: [{ id: "111111111111", grantBackend: identity-center }]',
        'templateGrantBackends: { readonly: identity-center }',
      ]),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^bad\.yaml: aws\.grantBackend: the default backend uses .*aws\.identityCenter .*is not set/,
        ),
        expect.stringMatching(
          /^bad\.yaml: aws\.accounts\[0\]\.grantBackend: 111111111111 uses the identity-center backend/,
        ),
        expect.stringMatching(/^bad\.yaml: aws\.templateGrantBackends\.readonly: template readonly uses/),
      ]),
    );
  });

  it('a malformed instance ARN, identity store id or region names the field', () => {
    const issues = issuesOf(
      base([
        'identityCenter:',
        '  instanceArn: arn:aws:iam::123456789012:role/x',
        '  identityStoreId: store',
        '  region: Ireland',
      ]),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/aws\.identityCenter\.instanceArn: must be an Identity Center instance ARN/),
        expect.stringMatching(/aws\.identityCenter\.identityStoreId: must be an identity store id/),
        expect.stringMatching(/aws\.identityCenter\.region: must be an AWS region/),
      ]),
    );
  });

  it('an unknown backend name is refused', () => {
    expect(issuesOf(base(['grantBackend: sso'])).join('\n')).toMatch(/aws\.grantBackend: /);
  });

  it('two Slack users naming one Identity Center user are refused', () => {
    const issues = issuesOf(
      base(
        ['region: us-east-1'],
        [
          'identities:',
          '  map:',
          '    U0ALICE01: { principal: "arn:aws:iam::111111111111:user/alice", identityCenterUserName: alice }',
          '    U0ALICE02: { principal: "arn:aws:iam::111111111111:user/alice2", identityCenterUserName: Alice }',
        ],
      ),
    );
    expect(issues.join('\n')).toMatch(
      /identities\.map\.U0ALICE02\.identityCenterUserName: .*same Identity Center user/,
    );
  });
});

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

describe('aws-access-bot validate: grant backends', () => {
  function configWith(replace: (text: string) => string, template?: object): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'aab-'));
    cpSync('templates', path.join(dir, 'templates'), { recursive: true });
    if (template) writeFileSync(path.join(dir, 'templates', 'per-grant.yaml'), JSON.stringify(template));
    const file = path.join(dir, 'config.yaml');
    writeFileSync(
      file,
      replace(
        readFileSync('config/example.yaml', 'utf8').replace(
          'directory: ../templates',
          'directory: templates',
        ),
      ),
    );
    return file;
  }
  const withIc = (extra: string) => (text: string) =>
    text.replace(
      /\naws:\n/,
      `\naws:\n  identityCenter: { instanceArn: "arn:aws:sso:::instance/ssoins-1234567890abcdef", identityStoreId: d-1234567890, region: eu-west-1 }\n${extra}`,
    );

  it('exits 1 naming the field when templateGrantBackends names no template', async () => {
    const file = configWith(withIc('  templateGrantBackends: { nosuch: identity-center }\n'));
    const { cli, err } = io();
    expect(await runCli(['validate', '--config', file], cli)).toBe(1);
    expect(err.join('\n')).toContain(
      `${file}: aws.templateGrantBackends.nosuch: no template called "nosuch"`,
    );
  });

  it('exits 1 when a template granted through Identity Center uses a per-grant variable', async () => {
    const file = configWith(withIc('  templateGrantBackends: { per-grant: identity-center }\n'), {
      name: 'per-grant',
      description: 'uses the requester',
      boundary: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
      },
      inlinePolicy: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/${requester}/*' }],
      },
      defaultDuration: '1h',
      maxDuration: '1h',
    });
    const { cli, err } = io();
    expect(await runCli(['validate', '--config', file], cli)).toBe(1);
    expect(err.join('\n')).toMatch(
      /per-grant\.yaml: inlinePolicy\.Statement\[0\]\.Resource: \$\{requester\} is a per-grant variable/,
    );
  });

  it('warns, exit 0, when a template granted through Identity Center allows less than its 1 h minimum session', async () => {
    const file = configWith(withIc('  templateGrantBackends: { per-grant: identity-center }\n'), {
      name: 'per-grant',
      description: 'short',
      boundary: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
      },
      defaultDuration: '15m',
      maxDuration: '30m',
    });
    const { cli, err } = io();
    expect(await runCli(['validate', '--config', file], cli), err.join('\n')).toBe(0);
    expect(err.join('\n')).toMatch(
      /warning: .*per-grant\.yaml: per-grant: maxDuration 30m is below Identity Center's 1 h session minimum/,
    );
  });

  it('exits 0 for an identity-center account with the shipped templates', async () => {
    const file = configWith(withIc('  grantBackend: identity-center\n'));
    const { cli, err } = io();
    expect(await runCli(['validate', '--config', file], cli), err.join('\n')).toBe(0);
  });
});
