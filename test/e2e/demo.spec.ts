/**
 * `npm run demo` as a newcomer runs it: a child process that starts its own moto_server, uses
 * the Redis in REDIS_URL, walks through every step and exits 0 leaving nothing behind. The grant
 * is shortened (DEMO_GRANT) so the expiry warning and the revocation come within seconds.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { STEP } from '../../demo/demo.js';
import { IC_STEP } from '../../demo/identity-center.js';
import { redisUrl } from '../support/services.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runDemoProcess(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Run> {
  return runDemoProcessWith([], env, timeoutMs);
}

function runDemoProcessWith(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'demo/run.ts', ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // A demo that does not end by itself left something running: that is the failure.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the demo did not exit within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return false;
  } catch {
    return true;
  }
}

describe('npm run demo', () => {
  it('walks through request, approvals, grant, warning, revocation and hygiene, then exits 0 leaving nothing running', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      REDIS_URL: redisUrl(),
      DEMO_GRANT: '12s',
      DEMO_EXPIRY_WARNING: '6s',
      LOG_LEVEL: 'silent',
    };
    // The demo must start its own moto (with the AWS managed policies) rather than use the suite's.
    delete env.AWS_ENDPOINT_URL;
    const run = await runDemoProcess(env, 100_000);
    const out = run.stdout;

    // Every step, in order, and none reported missing.
    const positions = Object.values(STEP).map((marker) => out.indexOf(`: ${marker} `));
    expect(
      positions.every((p) => p > 0),
      out,
    ).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(out).not.toContain('✘');
    expect(run.code, `${out}\n${run.stderr}`).toBe(0);

    // What people see, rendered from Block Kit with names rather than ids.
    expect(out).toContain('/aws-access sandbox readonly 12s INC-1');
    expect(out).toMatch(/#aws-approvals[\s\S]*Approvals: 0 of 2/);
    expect(out).toContain('Approvals: 1 of 2 (@bob)');
    expect(out).toMatch(
      /DM to @alice[\s\S]*\[ Switch role in the console \] → https:\/\/signin\.aws\.amazon\.com\/switchrole/,
    );
    expect(out).toMatch(/boundary\s+arn:aws:iam::222222222222:policy\/aws-access\/boundary-readonly/);
    expect(out).toMatch(/no longer exists in moto/);
    // Several accounts in one request: one message listing both, one DM listing both grants.
    expect(out).toContain('/aws-access sandbox,staging readonly 30m INC-2');
    expect(out).toMatch(
      /#aws-approvals[\s\S]*AWS access request g-[0-9a-f]+[\s\S]*\*?sandbox\*? \(`?222222222222`?\)[\s\S]*0 of 2 approvals/,
    );
    expect(out).toMatch(/staging\*? \(`?333333333333`?\) · rule staging · 0 of 2 approvals/);
    expect(out).toMatch(
      /DM to @alice[\s\S]*Access granted[\s\S]* on 2 of the 2 accounts[\s\S]*\[ Revoke all \]/,
    );
    expect(out).toContain('both grants revoked and their roles removed from moto');
    expect(out).toMatch(/#security[\s\S]*legacy-backup/);
    expect(out).toMatch(/DM to @dave[\s\S]*ci-deploy[\s\S]*\[ Snooze 7 days \]/);
    expect(out).toContain('audit log hash chain intact');
    expect(out).not.toMatch(/<@U0|<#C0|<!subteam/);

    // Nothing left behind: its moto and service ports are closed, its Redis keys are gone.
    const moto = /started a throwaway moto_server at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    const service = /startService\(\{ role: 'all' \}\) on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    const prefix = /Redis prefix (demo-[0-9a-f]+)/.exec(out)?.[1];
    expect(moto && service && prefix).toBeTruthy();
    expect(await refused(`${moto}/moto-api/`)).toBe(true);
    expect(await refused(`${service}/healthz`)).toBe(true);
    const redis = new Redis(redisUrl());
    try {
      expect(await redis.keys(`${prefix}*`)).toEqual([]);
    } finally {
      await redis.quit();
    }
    expect(run.stderr).not.toContain('left resources open');
  }, 120_000);

  it('--identity-center shows the Identity Center path: one assignment for two overlapping requests, gone with the last, and a refusal', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: redisUrl(), LOG_LEVEL: 'silent' };
    delete env.AWS_ENDPOINT_URL;
    const run = await runDemoProcessWith(['--identity-center'], env, 100_000);
    const out = run.stdout;
    for (const marker of Object.values(IC_STEP)) expect(out, marker).toContain(`✔ ${marker}`);
    expect(out).not.toContain('✘');
    expect(run.code, `${out}\n${run.stderr}`).toBe(0);
    expect(out).toContain('sso_role_name = aws-access-readonly');
    expect(out).toContain('[ Open in the AWS access portal ]');
    expect(out).toMatch(/no IAM Identity Center user has your e-mail dave@example\.com/);
    expect(run.stderr).not.toContain('left resources open');
  }, 120_000);
});
