import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { freePort } from '../support/local-servers.js';
import { awsEndpointUrl, redisUrl, TEST_CONFIG_FILE, uniquePrefix } from '../support/services.js';
import { slashCommandBody, signedRequest, TEST_SIGNING_SECRET } from '../support/slack-request.js';

const CLI = path.resolve('src/cli.ts');
const TSX = path.resolve('node_modules/.bin/tsx');

function runCli(args: string[], env: Record<string, string>) {
  const child = spawn(TSX, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return { child, output: () => ({ stdout, stderr }) };
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

describe('the aws-access-bot process', () => {
  let fake: FakeSlack;
  beforeAll(async () => {
    fake = await startFakeSlack();
  });
  afterAll(async () => fake.stop());

  it('serves Slack and health over HTTP, then shuts down cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aab-'));
    const config = path.join(dir, 'config.yaml');
    // Same fixture, its own Redis prefix, templates resolved from the repository.
    writeFileSync(
      config,
      `${readFileSync(TEST_CONFIG_FILE, 'utf8').replace('../../templates', path.resolve('templates'))}\nredis:\n  prefix: ${uniquePrefix()}\n`,
    );
    const port = await freePort();
    const { child, output } = runCli(['start', '--role', 'all'], {
      SLACK_BOT_TOKEN: 'xoxb-test-process',
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_API_URL: fake.apiUrl,
      REDIS_URL: redisUrl(),
      AWS_ENDPOINT_URL: awsEndpointUrl(),
      AWS_ACCESS_CONFIG: config,
      PORT: String(port),
      LOG_LEVEL: 'info',
    });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/readyz`, 30_000);
      const request = signedRequest(slashCommandBody({ text: 'help', userId: 'U0REQUESTER' }));
      const res = await fetch(`http://127.0.0.1:${port}/slack/events`, { method: 'POST', ...request });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('/aws-access');
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    const { stdout } = output();
    expect(stdout).toContain('"msg":"stopped"');
    // Logs are JSON lines and never carry the bot token.
    expect(stdout).not.toContain('xoxb-test-process');
  }, 60_000);

  it('exits 1 naming the file and field when the config is invalid', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aab-'));
    const config = path.join(dir, 'bad.yaml');
    writeFileSync(config, 'slack:\n  chanels: {}\n');
    const { child, output } = runCli(['start'], {
      SLACK_BOT_TOKEN: 'xoxb-test-process',
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      AWS_ACCESS_CONFIG: config,
      REDIS_URL: redisUrl(),
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(output().stderr).toContain(`${config}: slack.chanels: unknown field`);
  }, 30_000);
});
