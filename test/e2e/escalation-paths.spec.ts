/**
 * The escalation paths of the security review, driven as Slack and an attacker would: through the
 * real Bolt receiver with signed requests, a fake Slack Web API, and real Redis — break-glass
 * outside its allowance (finding 1), one person with two Slack accounts (finding 2), and request
 * records written straight into Redis (finding 3).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config/schema.js';
import type { AccessRequest } from '../../src/domain/access-request.js';
import { encodeRequest } from '../../src/store/request-store.js';
import { type TestApp } from '../support/app-harness.js';
import { testRule } from '../support/rules.js';
import {
  APPROVER1,
  approverMessage,
  click,
  command,
  dmsTo,
  ephemeralsTo,
  ONCALL_GROUP,
  PROD_APPROVERS,
  REQUESTER,
  startWithPeople,
  stateOf,
  waitUntil,
} from '../support/slack-flow.js';
import { storeAsTheBot } from '../support/stored-requests.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

async function start(mutate?: (config: AppConfig) => void): Promise<TestApp> {
  app = await startWithPeople(mutate);
  return app;
}

const securityAlerts = (a: TestApp) =>
  a.fake
    .callsTo('chat.postMessage')
    .filter((c) => c.args.channel === 'C0SECURITY')
    .map((c) => String(c.args.text));

describe('break-glass is only an explicit allowance of a rule (finding 1)', () => {
  it("a break-glass template on production waits for the production rule's 2 approvals", async () => {
    const a = await start();
    await command(a, 'prod admin-breakglass 1h INC-1 database on fire');
    const msg = await approverMessage(a.fake);
    expect(JSON.stringify(msg.call.args.blocks)).toContain('0 of 2');
    expect(await stateOf(a, msg.requestId)).toBe('pending');
    await click(a, PROD_APPROVERS[0]!, 'request_approve', msg);
    await waitUntil(
      async () => (await a.service.requests.get(msg.requestId))?.approvals.length === 1,
      'one approval',
    );
    expect(await stateOf(a, msg.requestId)).toBe('pending');
    expect(a.grants.callsTo('grant')).toHaveLength(0);
  });

  it("someone outside the allowance's requester groups goes through the approvers", async () => {
    const a = await start((c) => {
      c.approval.rules.unshift(
        testRule({
          name: 'break-glass',
          match: { templates: ['admin-breakglass'] },
          approvers: { users: [APPROVER1], groups: [] },
          breakGlass: { templates: ['admin-breakglass'], requesterGroups: [ONCALL_GROUP] },
        }),
      );
    });
    a.fake.setUsergroup(ONCALL_GROUP, ['U0SOMEONEELSE']);
    await command(a, 'prod admin-breakglass 1h INC-2 database on fire');
    const msg = await approverMessage(a.fake);
    expect(await stateOf(a, msg.requestId)).toBe('pending');
    expect(a.grants.callsTo('grant')).toHaveLength(0);
    expect(securityAlerts(a).filter((t) => /break-glass/i.test(t))).toEqual([]);
  });
});

describe('one person, two Slack accounts (finding 2)', () => {
  it("a second Slack account with the requester's e-mail cannot approve the request", async () => {
    const a = await start((c) => {
      c.identities.byEmail = {
        enabled: true,
        principalTemplate: 'arn:aws:iam::${identity_account_id}:user/${email}',
        identityAccountId: '123456789012',
      };
      c.approval.rules.find((r) => r.name === 'default')!.approvers.users.push('U0TWIN');
    });
    a.fake.addUser({ id: 'U0TWIN', email: 'Requester@example.com' });
    await command(a, 'sbx readonly 1h checking alarms');
    const msg = await approverMessage(a.fake);
    await click(a, 'U0TWIN', 'request_approve', msg);
    await waitUntil(
      () => ephemeralsTo(a.fake, 'U0TWIN').find((t) => t.includes('same AWS identity or e-mail')),
      'the refusal',
    );
    expect(await stateOf(a, msg.requestId)).toBe('pending');
    expect((await a.service.requests.get(msg.requestId))?.approvals).toEqual([]);
    expect(a.grants.callsTo('grant')).toHaveLength(0);
  });

  it('an unconfirmed Slack e-mail names nobody in AWS: no principal is made from it', async () => {
    const a = await start((c) => {
      c.identities.byEmail = {
        enabled: true,
        principalTemplate: 'arn:aws:iam::${identity_account_id}:user/${email}',
        identityAccountId: '123456789012',
      };
    });
    // Anyone may type someone else's address into a profile whose e-mail Slack never confirmed.
    a.fake.addUser({ id: 'U0TYPIST', email: 'cfo@example.com', is_email_confirmed: false });
    await command(a, 'sbx readonly 1h checking alarms', 'U0TYPIST');
    const reply = await waitUntil(
      () =>
        a.fake
          .callsTo('response_url')
          .map((c) => String(c.args.text))
          .find((t) => t.includes('not created')),
      'the refusal',
    );
    expect(reply).toContain('not mapped to an AWS identity');
    expect(await a.service.requests.listInState('pending')).toEqual([]);

    // The same person once Slack has confirmed the address is mapped by it as before.
    a.fake.addUser({ id: 'U0TYPIST', email: 'cfo@example.com', is_email_confirmed: true });
    await command(a, 'sbx readonly 1h checking alarms', 'U0TYPIST');
    const msg = await approverMessage(a.fake);
    expect((await a.service.requests.get(msg.requestId))?.principalArn).toBe(
      'arn:aws:iam::123456789012:user/cfo@example.com',
    );
  });

  it('two Slack accounts of one approver count once toward N of M', async () => {
    const a = await start();
    const [p1, p2] = PROD_APPROVERS as [string, string];
    a.fake.addUser({ id: p1, email: 'pat@example.com' });
    a.fake.addUser({ id: 'U0PROD1B', email: 'PAT@example.com' });
    a.fake.setUsergroup('S0PRODAPPR', [...PROD_APPROVERS, 'U0PROD1B']);
    await command(a, 'prod readonly 1h INC-3 checking');
    const msg = await approverMessage(a.fake);
    await click(a, p1, 'request_approve', msg);
    await waitUntil(
      async () => (await a.service.requests.get(msg.requestId))?.approvals.length === 1,
      'first approval',
    );
    await click(a, 'U0PROD1B', 'request_approve', msg);
    await waitUntil(
      () => ephemeralsTo(a.fake, 'U0PROD1B').find((t) => t.includes('one person counts once')),
      'the refusal',
    );
    expect(await stateOf(a, msg.requestId)).toBe('pending');
    expect(a.grants.callsTo('grant')).toHaveLength(0);
    await click(a, p2, 'request_approve', msg);
    await waitUntil(async () => (await stateOf(a, msg.requestId)) === 'active', 'granted by two people');
  });
});

function forgedRequest(id: string, patch: Partial<AccessRequest> = {}): AccessRequest {
  const now = Date.now();
  return {
    id,
    version: 1,
    state: 'approved',
    requesterId: REQUESTER,
    principalArn: 'arn:aws:iam::123456789012:user/requester',
    accountId: '111111111111',
    accountName: 'production',
    ouPath: [],
    templateName: 'readonly',
    durationSeconds: 3600,
    reason: 'INC-9 written into Redis',
    ruleName: 'production',
    approvalsRequired: 2,
    approvals: [],
    breakGlass: false,
    autoApproved: false,
    createdAt: now,
    updatedAt: now,
    pendingUntil: now + 3600_000,
    extensions: 0,
    ...patch,
  };
}

/** Writes a request the way someone with Redis access but without the bot's key would. */
async function writeIntoRedis(a: TestApp, request: AccessRequest, approverIds: string[] = []): Promise<void> {
  const prefix = a.loaded.config.redis.prefix;
  const redis = a.service.redis;
  await redis.hset(`${prefix}:request:${request.id}`, encodeRequest(request));
  await redis.zadd(`${prefix}:requests:state:${request.state}`, request.createdAt, request.id);
  for (const approverId of approverIds) {
    await redis.zadd(`${prefix}:request:${request.id}:approvals`, request.createdAt, approverId);
  }
}

async function expectRefusedAtGrant(a: TestApp, id: string, why: string): Promise<void> {
  await a.service.requests.provision(id);
  expect(await stateOf(a, id)).toBe('failed');
  expect(a.grants.callsTo('grant')).toHaveLength(0);
  expect((await a.service.requests.get(id))?.failure).toContain(why);
  await waitUntil(() => securityAlerts(a).find((t) => t.includes(id)), 'the security alert');
}

describe('Redis is not a grant oracle (finding 3)', () => {
  it('a request hash written straight into Redis as approved is not granted', async () => {
    const a = await start();
    const forged = forgedRequest('r-forged0001', {
      templateName: 'admin-breakglass',
      breakGlass: true,
      autoApproved: true,
      principalArn: 'arn:aws:iam::666666666666:user/mallory',
    });
    await writeIntoRedis(a, forged);
    await expectRefusedAtGrant(a, forged.id, 'not one the bot wrote');
    await waitUntil(
      () => dmsTo(a.fake, REQUESTER).find((c) => String(c.args.text).includes('Nothing was granted')),
      'the requester is told',
    );
  });

  it('approvals added in Redis to a genuine request are not counted', async () => {
    const a = await start();
    const genuine = forgedRequest('r-genuine001');
    await storeAsTheBot(a.service, a.loaded.config.redis.prefix, genuine);
    // The attacker adds two real approvers' ids and moves the request on.
    await writeIntoRedis(a, genuine, PROD_APPROVERS.slice(0, 2));
    await expectRefusedAtGrant(a, genuine.id, 'is not one the bot recorded');
  });

  it('a genuine request whose principal was changed in Redis is not granted', async () => {
    const a = await start();
    const genuine = forgedRequest('r-tampered01');
    await storeAsTheBot(a.service, a.loaded.config.redis.prefix, genuine, PROD_APPROVERS.slice(0, 2));
    await a.service.redis.hset(
      `${a.loaded.config.redis.prefix}:request:${genuine.id}`,
      'principalArn',
      'arn:aws:iam::666666666666:user/mallory',
    );
    await expectRefusedAtGrant(a, genuine.id, 'not one the bot wrote');
  });

  it('the same genuine request, untouched, is granted', async () => {
    const a = await start();
    const genuine = forgedRequest('r-untouched1');
    await storeAsTheBot(a.service, a.loaded.config.redis.prefix, genuine, PROD_APPROVERS.slice(0, 2));
    await a.service.requests.provision(genuine.id);
    expect(await stateOf(a, genuine.id)).toBe('active');
    expect(a.grants.callsTo('grant')).toHaveLength(1);
  });
});
