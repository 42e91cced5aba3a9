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

describe('aws-access-bot validate checks the templates', () => {
  it('prints every template with its access-level summary for the example config', async () => {
    const { cli, out } = io();
    expect(await runCli(['validate', '--config', 'config/example.yaml'], cli)).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/templates: ok \(4 templates\)/);
    expect(text).toMatch(/^readonly \(default 1h, max 8h, MFA\): /m);
    expect(text).toMatch(/^admin-breakglass \(default 1h, max 4h, MFA, break-glass\): /m);
    expect(text).toMatch(/^ {4}s3: List \d+, Read \d+, Write 0, Permissions management 0, Tagging 0$/m);
    expect(text).toContain('  ! iam:PassRole');
  });

  it('exits 1 naming the template file and field when a template is invalid', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aab-cli-'));
    cpSync('templates', path.join(dir, 'templates'), { recursive: true });
    const bad = path.join(dir, 'templates', 'developer.yaml');
    writeFileSync(bad, readFileSync(bad, 'utf8').replace('cloudtrail:StopLogging', 'cloudtrail:StopLoging'));
    const config = path.join(dir, 'config.yaml');
    writeFileSync(
      config,
      readFileSync('config/example.yaml', 'utf8').replace('directory: ../templates', 'directory: templates'),
    );
    const { cli, err } = io();
    expect(await runCli(['validate', '--config', config], cli)).toBe(1);
    expect(err.join('\n')).toMatch(
      new RegExp(
        `developer\\.yaml: boundary\\.Statement\\[2\\]\\.Action\\[0\\]: unknown action "cloudtrail:StopLoging"`,
      ),
    );
  });
});
