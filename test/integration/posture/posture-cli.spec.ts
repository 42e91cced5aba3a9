import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsPostureReader } from '../../../src/aws/posture-reader.js';
import { createPostureCommand } from '../../../src/cli/posture.js';
import { runCli } from '../../../src/cli/run-cli.js';
import type { CliIo } from '../../../src/cli/io.js';
import { readEnvOptions, type EnvOptions } from '../../../src/config/env.js';
import type { LoadedConfig } from '../../../src/config/load-config.js';
import { RedisRequestStore } from '../../../src/store/request-store.js';
import { systemClock } from '../../../src/clock.js';
import { ManualClock } from '../../support/request-doubles.js';
import { awsEndpointUrl, redisUrl, resetMoto, testConfig, testRedis } from '../../support/services.js';
import { countingAccountClients } from '../hygiene/support.js';
import {
  activeRequest,
  ACTIVE_REQUEST_IDS,
  EXPECTED_FINDINGS,
  populatePosture,
  POSTURE_ACCOUNT,
  POSTURE_EXEMPTIONS,
} from '../../support/posture-population.js';

const DAY_MS = 86_400_000;
const CLEAN_ACCOUNT = '222222222222';

function io(env: Partial<EnvOptions> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const cli: CliIo = {
    env: {
      ...readEnvOptions({}),
      redisUrl: redisUrl(),
      awsRegion: 'us-east-1',
      awsEndpointUrl: awsEndpointUrl(),
      logLevel: 'silent',
      ...env,
    },
    clock: systemClock,
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  };
  return { cli, out, err };
}

describe('aws-access-bot posture', () => {
  let loaded: LoadedConfig;
  let redis: Redis;
  let cleanup: () => Promise<void>;
  let clock: ManualClock;
  const accounts = countingAccountClients();

  beforeAll(async () => {
    await resetMoto();
    await populatePosture(await accounts.iam(POSTURE_ACCOUNT), awsEndpointUrl());
    const details = await awsPostureReader(accounts).read(POSTURE_ACCOUNT);
    const busy = details.roles.find((r) => r.name === 'busy')!;
    clock = new ManualClock(busy.lastUsedAt!.getTime() + DAY_MS - 500);
    loaded = testConfig((c) => {
      c.posture.unusedRoleDays = 1;
      c.posture.exemptions = POSTURE_EXEMPTIONS;
    });
    ({ redis, cleanup } = await testRedis(loaded.config.redis.prefix));
    const store = new RedisRequestStore(redis, loaded.config.redis.prefix, systemClock);
    for (const id of ACTIVE_REQUEST_IDS) await store.create(activeRequest(id));
  }, 120_000);

  afterAll(async () => {
    await cleanup();
    await resetMoto();
  });

  it('--json prints {kind, account, arn, detail, owner} for every finding and exits 3', async () => {
    const { cli, out } = io();
    const code = await createPostureCommand({ loaded, accounts, clock })(
      ['--account', POSTURE_ACCOUNT, '--json'],
      cli,
    );
    expect(code).toBe(3);
    const findings = JSON.parse(out.join('\n')) as Array<Record<string, unknown>>;
    expect(findings.map((f) => `${f.kind} ${f.arn}`).sort()).toEqual(EXPECTED_FINDINGS);
    for (const f of findings)
      expect(Object.keys(f).sort()).toEqual(['account', 'arn', 'detail', 'kind', 'owner']);
    const carol = findings.find((f) => f.kind === 'user-inline-policy');
    expect(carol).toMatchObject({ account: POSTURE_ACCOUNT, owner: 'U0CAROL' });
    expect(carol!.detail).toMatch(/inline-carol has inline policies: mine/);
    expect(findings.find((f) => f.kind === 'unused-policy')!.owner).toBeNull();
  });

  it('the text output groups findings by kind and lists exemptions with their reason', async () => {
    const { cli, out } = io();
    expect(await createPostureCommand({ loaded, accounts, clock })(['--account', POSTURE_ACCOUNT], cli)).toBe(
      3,
    );
    const text = out.join('\n');
    expect(text).toContain(`Account ${POSTURE_ACCOUNT}: ${EXPECTED_FINDINGS.length} posture findings`);
    expect(text).toContain('wildcard policies (2)');
    expect(text).toMatch(/exempted \(2\)\n.*break-glass: emergency role/);
  });

  it('exits 0 with an empty array on a clean account', async () => {
    const { cli, out } = io();
    expect(
      await createPostureCommand({ loaded, accounts, clock })(['--account', CLEAN_ACCOUNT, '--json'], cli),
    ).toBe(0);
    expect(JSON.parse(out.join('\n'))).toEqual([]);
  });

  it('skips the drift check, and says so, when Redis cannot be reached', async () => {
    const { cli, out, err } = io({ redisUrl: 'redis://127.0.0.1:9' });
    const code = await createPostureCommand({ loaded, accounts, clock, redisTimeoutMs: 1000 })(
      ['--account', POSTURE_ACCOUNT, '--json'],
      cli,
    );
    expect(code).toBe(3);
    expect(err.join('\n')).toMatch(/Redis unreachable: the access-role-drift check is skipped/);
    const kinds = (JSON.parse(out.join('\n')) as Array<{ kind: string }>).map((f) => f.kind);
    expect(kinds).not.toContain('access-role-drift');
    expect(kinds).toContain('admin-equivalent');
  });

  it('exits 2 on usage errors and 1 on an invalid config', async () => {
    expect(await runCli(['posture'], io().cli)).toBe(2);
    expect(await runCli(['posture', '--account', '12'], io().cli)).toBe(2);
    expect(await runCli(['posture', '--account', POSTURE_ACCOUNT, '--bogus'], io().cli)).toBe(2);
    const dir = mkdtempSync(path.join(tmpdir(), 'posture-cli-'));
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(
      file,
      [
        'slack: { channels: { approvals: C0A, audit: C0B, security: C0C } }',
        'aws: {}',
        'approval: { rules: [{ name: any, autoApprove: true }] }',
        "posture: { exemptions: [{ kinds: [unused-role], reason: 'no target' }] }",
      ].join('\n'),
    );
    const bad = io();
    expect(await runCli(['posture', '--config', file, '--account', POSTURE_ACCOUNT], bad.cli)).toBe(1);
    expect(bad.err.join('\n')).toContain('posture.exemptions[0]: an exemption needs `arn` or `tag`');
  });
});
