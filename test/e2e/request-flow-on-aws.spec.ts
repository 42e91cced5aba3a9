/**
 * The whole path with nothing faked but Slack: a signed command, an approval click, the real
 * grant engine creating the role in moto through the AWS SDK, the delivery DM, and a revoke.
 */
import { systemClock } from '../../src/clock.js';
import { GetRoleCommand, GetRolePolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAwsServices, type AwsServices } from '../../src/aws/create-aws-services.js';
import type { GrantEngine } from '../../src/domain/ports.js';
import { createLogger } from '../../src/logger.js';
import { startTestApp, testEnv, type TestApp } from '../support/app-harness.js';
import { startFakeSlack } from '../support/fake-slack.js';
import { resetMoto, redisUrl, testConfig } from '../support/services.js';
import {
  APPROVER1,
  approverMessage,
  click,
  command,
  dmsTo,
  REQUESTER,
  seedPeople,
  updatesOf,
  waitUntil,
} from '../support/slack-flow.js';

const SANDBOX = '222222222222';

/** Counts grant calls while the real engine does the work. */
function counting(engine: GrantEngine): GrantEngine & { grants: number } {
  const counted = {
    grants: 0,
    grant: async (request: Parameters<GrantEngine['grant']>[0]) => {
      counted.grants += 1;
      return engine.grant(request);
    },
    revoke: engine.revoke.bind(engine),
    extend: engine.extend.bind(engine),
    refreshDelivery: engine.refreshDelivery.bind(engine),
    reconcile: engine.reconcile.bind(engine),
  };
  return counted;
}

async function roleExists(iam: IAMClient, roleName: string): Promise<boolean> {
  try {
    await iam.send(new GetRoleCommand({ RoleName: roleName }));
    return true;
  } catch (error) {
    if ((error as Error).name === 'NoSuchEntityException') return false;
    throw error;
  }
}

describe('a request granted and revoked on AWS (moto)', () => {
  let app: TestApp | undefined;
  let redis: Redis;
  beforeEach(async () => {
    await resetMoto();
    redis = new Redis(redisUrl());
  });
  afterEach(async () => {
    await app?.stop();
    app = undefined;
    await redis.quit();
  });

  it('creates the boundary-scoped, time-boxed role, DMs how to use it, and revoke removes it', async () => {
    const fake = await startFakeSlack();
    const loaded = testConfig();
    const aws: AwsServices = await createAwsServices({
      clock: systemClock,
      env: testEnv(fake),
      loaded,
      redis,
      logger: createLogger({ level: 'silent' }),
      sleep: async () => undefined,
    });
    const grants = counting(aws.grants);
    app = await startTestApp({
      fake,
      loaded,
      adapters: { grants, templates: aws.templates, accounts: aws.accounts },
    });
    seedPeople(fake);

    await command(app, 'sbx s3-data-reader 2h reading the export bucket');
    const msg = await approverMessage(fake);
    expect(JSON.stringify(msg.call.args.blocks)).toContain('s3-data-reader');
    await click(app, APPROVER1, 'request_approve', msg);
    const running = app;
    await waitUntil(
      async () => (await running.service.requests.get(msg.requestId))?.state === 'active',
      'grant active',
    );
    expect(grants.grants).toBe(1);

    const roleName = `aws-access-${msg.requestId}`;
    const iam = await aws.accountClients.iam(SANDBOX);
    const role = (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role!;
    expect(role.Path).toBe('/aws-access/');
    expect(role.PermissionsBoundary?.PermissionsBoundaryArn).toBe(
      `arn:aws:iam::${SANDBOX}:policy/aws-access/boundary-s3-data-reader`,
    );
    const tags = Object.fromEntries((role.Tags ?? []).map((t) => [t.Key, t.Value]));
    expect(tags['aws-access:request-id']).toBe(msg.requestId);
    expect(tags['aws-access:template']).toBe('s3-data-reader');
    const expiry = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: 'expiry' }));
    const expiryDoc = JSON.parse(decodeURIComponent(expiry.PolicyDocument ?? '{}'));
    expect(JSON.stringify(expiryDoc)).toContain('aws:CurrentTime');
    expect(JSON.stringify(expiryDoc)).toContain(tags['aws-access:expires-at']);

    const delivery = await waitUntil(
      () => dmsTo(fake, REQUESTER).find((c) => JSON.stringify(c.args.blocks ?? '').includes('switchrole')),
      'delivery DM',
    );
    expect(JSON.stringify(delivery.args.blocks)).toContain(roleName);
    await waitUntil(
      () => updatesOf(fake, msg).find((c) => JSON.stringify(c.args.blocks).includes('*active*')),
      'approval message shows active',
    );

    await command(app, `revoke ${msg.requestId}`);
    await waitUntil(
      async () => (await running.service.requests.get(msg.requestId))?.state === 'revoked',
      'revoked',
    );
    expect(await roleExists(iam, roleName)).toBe(false);
  });
});
