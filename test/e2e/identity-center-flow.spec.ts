/**
 * The identity-center backend end to end: the real Bolt receiver fed signed requests, the fake
 * Slack, Redis, the workers, and the real grant engine on moto (sso-admin, identitystore; the
 * calls moto lacks answered by test/support/identity-center-gaps.ts). One person holds the same
 * permission set in the same account through two overlapping requests: the assignment stays
 * when the first ends and goes with the second. Reconcile removes an assignment nobody asked
 * for; a Slack user without an Identity Center user is refused before any approver is asked.
 */
import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import {
  CreateAccountAssignmentCommand,
  ListAccountAssignmentsCommand,
  ListPermissionSetsCommand,
  SSOAdminClient,
} from '@aws-sdk/client-sso-admin';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { createAwsServices, type AwsServices } from '../../src/aws/create-aws-services.js';
import { runReconcile } from '../../src/jobs/reconcile.js';
import { createLogger } from '../../src/logger.js';
import { startTestApp, testEnv, type TestApp } from '../support/app-harness.js';
import { startFakeSlack } from '../support/fake-slack.js';
import { SANDBOX, TEMPLATE, TEMPLATES_DIR } from '../support/grant-lifecycle.js';
import { startIdentityCenterGaps, type IdentityCenterGaps } from '../support/identity-center-gaps.js';
import { awsEndpointUrl, connectRedis, resetMoto, testConfig } from '../support/services.js';
import {
  APPROVER1,
  approverMessage,
  click,
  command,
  dmsTo,
  ephemeralsTo,
  REQUESTER,
  seedPeople,
  waitUntil,
} from '../support/slack-flow.js';

const INSTANCE = 'arn:aws:sso:::instance/ssoins-1234567890abcdef';
const STORE = 'd-1234567890';
const NO_IC_USER = 'U0NOSSOUSER';
/** In no identity map and no IAM user: known to AWS only through Identity Center. */
const SSO_ONLY = 'U0SSOONLY';
const creds = { accessKeyId: 'testing', secretAccessKey: 'testing' };

let gaps: IdentityCenterGaps;
let sso: SSOAdminClient;
let ids: IdentitystoreClient;

beforeAll(async () => {
  gaps = await startIdentityCenterGaps(awsEndpointUrl());
  sso = new SSOAdminClient({ region: 'eu-west-1', endpoint: gaps.url, credentials: creds });
  ids = new IdentitystoreClient({ region: 'eu-west-1', endpoint: awsEndpointUrl(), credentials: creds });
});
afterAll(async () => gaps.stop());

async function createUser(userName: string, email: string): Promise<string> {
  const out = await ids.send(
    new CreateUserCommand({
      IdentityStoreId: STORE,
      UserName: userName,
      DisplayName: userName,
      Name: { GivenName: userName, FamilyName: 'Test' },
      Emails: [{ Value: email, Primary: true }],
    }),
  );
  return out.UserId!;
}

async function assignedUsers(): Promise<string[]> {
  const sets = await sso.send(new ListPermissionSetsCommand({ InstanceArn: INSTANCE }));
  const out: string[] = [];
  for (const set of sets.PermissionSets ?? []) {
    const page = await sso.send(
      new ListAccountAssignmentsCommand({ InstanceArn: INSTANCE, AccountId: SANDBOX, PermissionSetArn: set }),
    );
    out.push(...(page.AccountAssignments ?? []).map((a) => a.PrincipalId!));
  }
  return out.sort();
}

interface IcApp extends TestApp {
  aws: AwsServices;
  redis: Redis;
}

async function startIcApp(): Promise<IcApp> {
  const fake = await startFakeSlack();
  seedPeople(fake);
  fake.addUser({ id: NO_IC_USER, email: 'nosso@example.com', real_name: 'No Sso' });
  fake.addUser({ id: SSO_ONLY, email: 'ssoonly@example.com', real_name: 'Sso Only' });
  const loaded = testConfig((config) => {
    config.templates.directory = TEMPLATES_DIR;
    config.aws.identityCenter = { instanceArn: INSTANCE, identityStoreId: STORE, region: 'eu-west-1' };
    config.aws.accounts.find((a) => a.id === SANDBOX)!.grantBackend = 'identity-center';
  });
  const redis = connectRedis();
  const aws = await createAwsServices({
    env: testEnv(fake, { awsEndpointUrl: gaps.url }),
    loaded,
    redis,
    logger: createLogger({ level: 'silent' }),
    clock: systemClock,
    maxAttempts: 2,
    sleep: async () => undefined,
    identityCenterPoll: { sleep: async () => undefined },
  });
  const app = await startTestApp({
    fake,
    loaded,
    role: 'all',
    adapters: { grants: aws.grants, templates: aws.templates, accounts: aws.accounts },
    service: { scheduleReconcile: false },
  });
  return {
    ...app,
    aws,
    redis,
    stop: async () => {
      await app.stop();
      await redis.quit();
    },
  };
}

async function grantThroughSlack(app: IcApp, index: number) {
  await command(app, `sandbox ${TEMPLATE} 30m overlapping work ${index}`, REQUESTER);
  const message = await approverMessage(app.fake, index);
  await click(app, APPROVER1, 'request_approve', message);
  return waitUntil(async () => {
    const r = await app.service.requests.get(message.requestId);
    return r?.state === 'active' ? r : undefined;
  }, `request ${message.requestId} to become active`);
}

async function revokeThroughSlack(app: IcApp, requestId: string) {
  await command(app, `revoke ${requestId}`, REQUESTER);
  await waitUntil(
    async () => (await app.service.requests.get(requestId))?.state === 'revoked',
    `request ${requestId} to be revoked`,
  );
}

describe('identity-center grants through Slack (moto)', () => {
  let app: IcApp | undefined;
  let userId: string;
  beforeEach(async () => {
    await resetMoto();
    userId = await createUser('requester@example.com', 'requester@example.com');
    app = await startIcApp();
  });
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('request → approval → assignment; two overlapping requests: the first ends, the assignment stays; the second ends, it is gone', async () => {
    const first = await grantThroughSlack(app!, 0);
    expect(await assignedUsers()).toEqual([userId]);
    expect(first.roleName).toBe('aws-access-short-reader');
    const dm = await waitUntil(
      () =>
        dmsTo(app!.fake, REQUESTER).find((c) =>
          JSON.stringify(c.args.blocks ?? []).includes('sso_account_id'),
        ),
      'the delivery DM',
    );
    const blocks = JSON.stringify(dm.args.blocks);
    expect(blocks).toContain(`sso_account_id = ${SANDBOX}`);
    expect(blocks).toContain('sso_role_name = aws-access-short-reader');
    expect(blocks).toContain(`https://${STORE}.awsapps.com/start`);

    const second = await grantThroughSlack(app!, 1);
    expect(await assignedUsers()).toEqual([userId]);

    await revokeThroughSlack(app!, first.id);
    expect(await assignedUsers()).toEqual([userId]);

    await revokeThroughSlack(app!, second.id);
    expect(await assignedUsers()).toEqual([]);
  });

  it('reconcile removes an assignment of the bot’s permission set that no request holds, and tells security', async () => {
    const active = await grantThroughSlack(app!, 0);
    const planted = await createUser('mallory', 'mallory@example.com');
    await sso.send(
      new CreateAccountAssignmentCommand({
        InstanceArn: INSTANCE,
        PermissionSetArn: active.roleArn,
        TargetType: 'AWS_ACCOUNT',
        TargetId: SANDBOX,
        PrincipalType: 'USER',
        PrincipalId: planted,
      }),
    );
    expect(await assignedUsers()).toEqual([userId, planted].sort());
    const summary = await runReconcile({
      requests: app!.service.requests,
      grants: app!.aws.grants,
      accounts: app!.aws.accounts,
      redis: app!.redis,
      redisPrefix: app!.loaded.config.redis.prefix,
      clock: systemClock,
      logger: createLogger({ level: 'silent' }),
    });
    expect(summary.removedForeign).toEqual([`${SANDBOX}:aws-access-short-reader`]);
    expect(summary.missing).toEqual([]);
    expect(await assignedUsers()).toEqual([userId]);
    expect(await app!.service.requests.get(active.id)).toMatchObject({ state: 'active' });
    const alert = await waitUntil(
      () =>
        app!.fake
          .callsTo('chat.postMessage')
          .find((c) => c.args.channel === 'C0SECURITY' && String(c.args.text).includes(planted)),
      'the security alert',
    );
    expect(String(alert.args.text)).toMatch(/no request of the bot holds this assignment/);
  });

  it('a Slack user without an Identity Center user is refused clearly, and no approver is asked', async () => {
    await command(app!, `sandbox ${TEMPLATE} 30m checking`, NO_IC_USER);
    const refusal = await waitUntil(
      () =>
        [
          ...ephemeralsTo(app!.fake, NO_IC_USER),
          ...app!.fake.callsTo('response_url').map((c) => JSON.stringify(c.args)),
        ].find((t) => t.includes('Identity Center')),
      'the refusal',
    );
    expect(refusal).toMatch(/no IAM Identity Center user has your e-mail nosso@example\.com/);
    expect(app!.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0APPROVALS')).toEqual([]);
    expect(await assignedUsers()).toEqual([]);
  });

  it('a Slack user known to AWS only through Identity Center (not in the identity map) is granted', async () => {
    const ssoUser = await createUser('ssoonly', 'ssoonly@example.com');
    await command(app!, `sandbox ${TEMPLATE} 30m working`, SSO_ONLY);
    const message = await approverMessage(app!.fake, 0);
    await click(app!, APPROVER1, 'request_approve', message);
    const active = await waitUntil(async () => {
      const r = await app!.service.requests.get(message.requestId);
      return r?.state === 'active' ? r : undefined;
    }, 'the grant');
    expect(active.principalArn).toBe(`arn:aws:identitystore:::user/${ssoUser}`);
    expect(await assignedUsers()).toEqual([ssoUser]);
  });
});
