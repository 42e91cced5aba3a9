/**
 * On-call schedules as approvers and for auto-approval, end to end: signed slash commands and
 * clicks through the real Bolt receiver, the fake Slack Web API, real Redis, and a loopback fake
 * of PagerDuty and Opsgenie that checks auth headers and query parameters as the real APIs do.
 */
import { GetRoleCommand } from '@aws-sdk/client-iam';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createAwsServices } from '../../src/aws/create-aws-services.js';
import { systemClock } from '../../src/clock.js';
import { createLogger } from '../../src/logger.js';
import type { AppConfig } from '../../src/config/schema.js';
import type { AuditEvent } from '../../src/domain/audit-event.js';
import type { OnCallSchedule } from '../../src/domain/on-call.js';
import { startTestApp, testEnv, type TestApp, type TestAppOptions } from '../support/app-harness.js';
import { startFakeSlack } from '../support/fake-slack.js';
import {
  FAKE_OPSGENIE_KEY,
  FAKE_PAGERDUTY_TOKEN,
  startFakeOnCall,
  type FakeOnCall,
  type OnCallProviderName,
} from '../support/fake-oncall.js';
import { testRule } from '../support/rules.js';
import { redisUrl, resetMoto, testConfig } from '../support/services.js';
import { ShiftClock } from '../support/shift-clock.js';
import { appHomeOpenedBody, blockActionsBody } from '../support/slack-request.js';
import {
  APPROVER1,
  approverMessage,
  click,
  command,
  ephemeralsTo,
  REQUESTER,
  seedPeople,
  stateOf,
  STRANGER,
  waitUntil,
} from '../support/slack-flow.js';

/** On call now, and in none of the rule's users or groups. */
const ON_CALL = 'U0ONCALL';
const ON_CALL_EMAIL = 'olga.oncall@example.com';
const PD_SCHEDULE: OnCallSchedule = { provider: 'pagerduty', schedule: 'PSCHED1' };
const OG_SCHEDULE: OnCallSchedule = { provider: 'opsgenie', schedule: 'Platform Primary' };
const OG_ID = '3f1c2a4b-5d6e-4f70-8a9b-0c1d2e3f4a5b';

let app: TestApp | undefined;
let oncall: FakeOnCall | undefined;
afterEach(async () => {
  await app?.stop();
  await oncall?.stop();
  app = undefined;
  oncall = undefined;
});

interface Setup {
  /** Who each provider has on call now (e-mails). */
  pagerduty?: string[];
  opsgenie?: string[];
  clock?: ShiftClock;
  mutate?: (config: AppConfig) => void;
  /** The real grant engine on moto instead of the recording one (see `onMoto`). */
  app?: Pick<TestAppOptions, 'fake' | 'loaded' | 'adapters'>;
}

/**
 * One rule for every account: APPROVER1 by name, and whoever is on call on the PagerDuty or the
 * Opsgenie schedule; a requester on call on either gets `readonly` on sandbox at once.
 */
async function start(setup: Setup = {}): Promise<{ a: TestApp; fake: FakeOnCall }> {
  const fake = (oncall = await startFakeOnCall());
  fake.setPagerDuty(PD_SCHEDULE.schedule, setup.pagerduty ?? []);
  fake.setOpsgenie({ id: OG_ID, name: OG_SCHEDULE.schedule }, setup.opsgenie ?? []);
  const configure = (c: AppConfig) => {
    c.onCall.pagerduty.apiUrl = fake.pagerdutyUrl;
    c.onCall.opsgenie.apiUrl = fake.opsgenieUrl;
    c.onCall.timeoutMs = 300;
    c.onCall.attempts = 2;
    c.approval.rules.unshift(
      testRule({
        name: 'on-call',
        approvers: { users: [APPROVER1], groups: [], onCall: [PD_SCHEDULE, OG_SCHEDULE] },
        onCallAutoApprove: {
          schedules: [PD_SCHEDULE, OG_SCHEDULE],
          templates: ['readonly'],
          accounts: ['sandbox'],
        },
      }),
    );
    setup.mutate?.(c);
  };
  const loaded = setup.app?.loaded ?? testConfig();
  configure(loaded.config);
  const a = (app = await startTestApp({
    ...setup.app,
    env: { pagerdutyApiToken: FAKE_PAGERDUTY_TOKEN, opsgenieApiKey: FAKE_OPSGENIE_KEY },
    ...(setup.clock ? { service: { clock: setup.clock } } : {}),
    loaded,
  }));
  seedPeople(a.fake);
  a.fake.addUser({ id: ON_CALL, email: ON_CALL_EMAIL, real_name: 'Olga Oncall' });
  a.fake.addUser({ id: STRANGER, email: 'stranger@example.com' });
  return { a, fake };
}

async function events(a: TestApp, action: string): Promise<AuditEvent[]> {
  const entries = await a.service.audit.read('-', 1000);
  return entries.map((e) => e.event).filter((e) => e.action === action);
}

function securityPosts(a: TestApp): string[] {
  return a.fake
    .callsTo('chat.postMessage')
    .filter((c) => c.args.channel === 'C0SECURITY')
    .map((c) => JSON.stringify(c.args.blocks ?? c.args.text));
}

const providers: Array<[OnCallProviderName, string]> = [
  ['pagerduty', 'PagerDuty schedule PSCHED1'],
  ['opsgenie', 'Opsgenie schedule Platform Primary'],
];

describe('start-up', () => {
  it('refuses to start when a rule names a schedule of a provider without an API token, naming file and field', async () => {
    const fake = await startFakeSlack();
    try {
      const loaded = testConfig((c) => {
        c.approval.rules.unshift(
          testRule({ name: 'on-call', approvers: { users: [APPROVER1], groups: [], onCall: [OG_SCHEDULE] } }),
        );
      });
      await expect(
        startTestApp({ fake, loaded, env: { pagerdutyApiToken: FAKE_PAGERDUTY_TOKEN } }),
      ).rejects.toThrow(
        `${loaded.file}: approval.rules.0.approvers.onCall.0.provider: schedule "Platform Primary" is in opsgenie, but OPSGENIE_API_KEY is not set`,
      );
    } finally {
      await fake.stop();
    }
  });
});

describe('on-call approvers', () => {
  it.each(providers)(
    'whoever is on call on the %s schedule approves and the request is granted; someone not on call is refused at the click',
    async (provider, label) => {
      const { a, fake } = await start({ [provider]: [ON_CALL_EMAIL.toUpperCase()] });
      await command(a, 'sbx developer 1h INC-1 checking alarms');
      const msg = await approverMessage(a.fake);
      // The approvers' message says the schedules' on-call people may decide.
      expect(JSON.stringify(msg.call.args.blocks)).toContain(`on call now: ${label}`);

      await click(a, STRANGER, 'request_approve', msg);
      const refused = await waitUntil(() => ephemeralsTo(a.fake, STRANGER)[0], 'refusal');
      expect(refused).toMatch(/not an approver/);
      expect(await stateOf(a, msg.requestId)).toBe('pending');

      await click(a, ON_CALL, 'request_approve', msg);
      await waitUntil(async () => (await stateOf(a, msg.requestId)) === 'active', 'active grant');
      expect(a.grants.callsTo('grant')).toHaveLength(1);
      expect((await events(a, 'approve')).map((e) => [e.actor, e.outcome])).toEqual([
        [STRANGER, 'refused'],
        [ON_CALL, 'ok'],
      ]);
      // The provider was asked (with its own key; the fake refuses any other).
      expect(fake.callsTo(provider).every((c) => c.status === 200)).toBe(true);
      expect(fake.callsTo(provider).length).toBeGreaterThan(0);
    },
  );

  it('whoever is on call decides an extension of the grant too; someone not on call is refused', async () => {
    const { a } = await start({ pagerduty: [ON_CALL_EMAIL] });
    await command(a, 'sbx developer 1h INC-1 checking alarms');
    const msg = await approverMessage(a.fake);
    await click(a, APPROVER1, 'request_approve', msg);
    await waitUntil(async () => (await stateOf(a, msg.requestId)) === 'active', 'active grant');

    await command(a, `extend ${msg.requestId} 30m`);
    const extension = await waitUntil(
      () =>
        a.fake
          .callsTo('chat.postMessage')
          .find((c) => JSON.stringify(c.args.blocks ?? []).includes('extension_approve')),
      'the extension message',
    );
    const clickExtension = (userId: string) => {
      const blocks = extension.args.blocks as Array<{
        elements?: Array<{ action_id?: string; value?: string }>;
      }>;
      const button = blocks
        .flatMap((b) => b.elements ?? [])
        .find((e) => e.action_id === 'extension_approve')!;
      return a.post(
        blockActionsBody({
          userId,
          actionId: 'extension_approve',
          value: button.value!,
          blockId: 'extension',
          message: { channel: String(extension.args.channel), ts: String(extension.response?.ts) },
        }),
      );
    };
    await clickExtension(STRANGER);
    await waitUntil(() => ephemeralsTo(a.fake, STRANGER).find((t) => /not an approver/.test(t)), 'refusal');
    expect((await a.service.requests.get(msg.requestId))?.extensions).toBe(0);

    await clickExtension(ON_CALL);
    await waitUntil(
      async () => (await a.service.requests.get(msg.requestId))?.extensions === 1,
      'the extension approved by the on-call approver',
    );
    expect(a.grants.callsTo('extend')).toHaveLength(1);
  });

  it('App Home lists the request under "Waiting for your approval" for whoever is on call, not for others', async () => {
    const { a } = await start({ opsgenie: [ON_CALL_EMAIL] });
    await command(a, 'sbx developer 1h INC-1 checking alarms');
    const msg = await approverMessage(a.fake);
    const homeOf = async (userId: string) => {
      const before = a.fake.callsTo('views.publish').length;
      await a.post(appHomeOpenedBody(userId), { contentType: 'application/json' });
      const call = await waitUntil(
        () =>
          a.fake
            .callsTo('views.publish')
            .slice(before)
            .find((c) => c.args.user_id === userId),
        `App Home of ${userId}`,
      );
      return JSON.stringify(call.args.view);
    };
    expect(await homeOf(ON_CALL)).toContain(msg.requestId);
    expect(await homeOf(STRANGER)).not.toContain(msg.requestId);
  });

  it('who is no longer on call at the click is refused, though they were when the request was posted', async () => {
    const { a, fake } = await start({ pagerduty: [ON_CALL_EMAIL] });
    await command(a, 'sbx developer 1h INC-1 checking alarms');
    const msg = await approverMessage(a.fake);
    fake.setPagerDuty(PD_SCHEDULE.schedule, ['someone.else@example.com']);
    await click(a, ON_CALL, 'request_approve', msg);
    expect(await waitUntil(() => ephemeralsTo(a.fake, ON_CALL)[0], 'refusal')).toMatch(/not an approver/);
    expect(await stateOf(a, msg.requestId)).toBe('pending');
  });

  it('a Slack account whose e-mail is the on-call person’s but unconfirmed is not on call: refused at the click and not listed in App Home', async () => {
    const IMPOSTOR = 'U0IMPOSTOR';
    const { a } = await start({ pagerduty: [ON_CALL_EMAIL] });
    a.fake.addUser({ id: IMPOSTOR, email: ON_CALL_EMAIL, is_email_confirmed: false });
    await command(a, 'sbx developer 1h INC-1 checking alarms');
    const msg = await approverMessage(a.fake);
    await click(a, IMPOSTOR, 'request_approve', msg);
    expect(await waitUntil(() => ephemeralsTo(a.fake, IMPOSTOR)[0], 'refusal')).toMatch(/not an approver/);
    expect(await stateOf(a, msg.requestId)).toBe('pending');
    await a.post(appHomeOpenedBody(IMPOSTOR), { contentType: 'application/json' });
    const home = await waitUntil(
      () => a.fake.callsTo('views.publish').find((c) => c.args.user_id === IMPOSTOR),
      'App Home of the impostor',
    );
    expect(JSON.stringify(home.args.view)).not.toContain(msg.requestId);
    // The confirmed owner of the address still approves.
    await click(a, ON_CALL, 'request_approve', msg);
    await waitUntil(async () => (await stateOf(a, msg.requestId)) === 'active', 'active grant');
  });

  it('a requester on call never approves their own request', async () => {
    const { a } = await start({ pagerduty: ['requester@example.com'] });
    await command(a, 'sbx developer 1h INC-1 checking alarms');
    const msg = await approverMessage(a.fake);
    await click(a, REQUESTER, 'request_approve', msg);
    const answer = await waitUntil(() => ephemeralsTo(a.fake, REQUESTER)[0], 'refusal');
    expect(answer).toMatch(/cannot decide your own request/);
    expect(await stateOf(a, msg.requestId)).toBe('pending');
    expect(a.grants.callsTo('grant')).toHaveLength(0);
  });
});

describe('on-call auto-approval', () => {
  it.each(providers)(
    'a requester on call on the %s schedule gets the named template on the named account at once, security paged; anything else goes to the approvers',
    async (provider, label) => {
      const { a } = await start({ [provider]: ['requester@example.com'] });
      await command(a, 'sbx readonly 1h INC-1 database slow');
      const [auto] = await waitUntil(async () => {
        const found = await events(a, 'on-call-auto-approve');
        return found.length ? found : undefined;
      }, 'the on-call auto-approval');
      expect(auto).toMatchObject({ actor: 'system', outcome: 'ok', details: { onCall: label } });
      const requestId = auto!.requestId!;
      await waitUntil(async () => (await stateOf(a, requestId)) === 'active', 'active grant');
      expect(a.grants.callsTo('grant')).toHaveLength(1);
      const page = await waitUntil(
        () => securityPosts(a).find((p) => p.includes('On-call auto-approval')),
        'security page',
      );
      expect(page).toContain(`auto-approved because the requester is on call now on ${label}`);
      expect(page).toContain(requestId);

      // Another template on that account, and the named template on another account: approvers.
      await command(a, 'sbx developer 1h INC-2 deploying a fix');
      const other = await approverMessage(a.fake, 0);
      await command(a, 'prod readonly 1h INC-3 database slow');
      const otherAccount = await approverMessage(a.fake, 1);
      expect(await stateOf(a, other.requestId)).toBe('pending');
      expect(await stateOf(a, otherAccount.requestId)).toBe('pending');
      expect(a.grants.callsTo('grant')).toHaveLength(1);
      expect(await events(a, 'on-call-auto-approve')).toHaveLength(1);
    },
  );

  it('a request for several accounts goes through the approvers even when each account alone would be auto-approved', async () => {
    const { a } = await start({
      pagerduty: ['requester@example.com'],
      mutate: (c) => {
        c.approval.rules[0]!.onCallAutoApprove!.accounts = ['sandbox', 'production'];
      },
    });
    await command(a, 'sbx,prod readonly 1h INC-1 database slow');
    const post = await waitUntil(
      () =>
        a.fake
          .callsTo('chat.postMessage')
          .find(
            (c) => c.args.channel === 'C0APPROVALS' && JSON.stringify(c.args.blocks).includes('production'),
          ),
      "the group's approvers' message",
    );
    expect(JSON.stringify(post.args.blocks)).toContain('sandbox');
    expect(a.grants.callsTo('grant')).toHaveLength(0);
    expect(await events(a, 'on-call-auto-approve')).toHaveLength(0);
    expect(securityPosts(a).some((p) => p.includes('On-call auto-approval'))).toBe(false);
    const pending = await a.service.requests.listInState('pending');
    expect(pending.map((r) => r.accountName).sort()).toEqual(['production', 'sandbox']);
  });

  it('a requester who is not on call goes through the approvers for the named template too', async () => {
    const { a } = await start({ pagerduty: [ON_CALL_EMAIL] });
    await command(a, 'sbx readonly 1h INC-1 database slow');
    const msg = await approverMessage(a.fake);
    expect(await stateOf(a, msg.requestId)).toBe('pending');
    expect(a.grants.callsTo('grant')).toHaveLength(0);
    expect(securityPosts(a).some((p) => p.includes('On-call auto-approval'))).toBe(false);
  });

  it('a requester whose Slack e-mail is the on-call address but unconfirmed is not auto-approved', async () => {
    const { a } = await start({ pagerduty: ['requester@example.com'] });
    a.fake.addUser({
      id: REQUESTER,
      email: 'requester@example.com',
      real_name: 'Rita Requester',
      is_email_confirmed: false,
    });
    await command(a, 'sbx readonly 1h INC-1 database slow');
    const msg = await approverMessage(a.fake);
    expect(await stateOf(a, msg.requestId)).toBe('pending');
    expect(a.grants.callsTo('grant')).toHaveLength(0);
    expect(await events(a, 'on-call-auto-approve')).toHaveLength(0);
  });
});

describe('the schedule service being down', () => {
  it.each([
    ['pagerduty', { status: 500 }],
    ['pagerduty', 'timeout'],
    ['opsgenie', { status: 503 }],
    ['opsgenie', 'timeout'],
  ] as const)(
    '%s answering %j: no auto-approval (the request waits for approvers), an on-call approver is refused, a named approver still decides',
    async (provider, failure) => {
      // Both the requester and the on-call person are on call on the failing provider only.
      const { a, fake } = await start({ [provider]: ['requester@example.com', ON_CALL_EMAIL] });
      fake.fail(provider, failure);
      await command(a, 'sbx readonly 1h INC-1 database slow');
      const msg = await approverMessage(a.fake);
      expect(await stateOf(a, msg.requestId)).toBe('pending');
      expect(a.grants.callsTo('grant')).toHaveLength(0);
      expect(await events(a, 'on-call-auto-approve')).toHaveLength(0);

      await click(a, ON_CALL, 'request_approve', msg);
      const answer = await waitUntil(() => ephemeralsTo(a.fake, ON_CALL)[0], 'refusal');
      const name = provider === 'pagerduty' ? 'PagerDuty' : 'Opsgenie';
      expect(answer).toContain(
        `could not confirm you are on call right now (${name} unavailable); another approver can decide`,
      );
      expect(await stateOf(a, msg.requestId)).toBe('pending');
      // Nothing the provider was sent or answered holds the token in what people see.
      expect(answer).not.toContain(FAKE_PAGERDUTY_TOKEN);
      expect(answer).not.toContain(FAKE_OPSGENIE_KEY);

      await click(a, APPROVER1, 'request_approve', msg);
      await waitUntil(async () => (await stateOf(a, msg.requestId)) === 'active', 'granted by APPROVER1');
      expect(a.grants.callsTo('grant')).toHaveLength(1);
    },
  );
});

describe('the one-minute cache', () => {
  it('two look-ups within a minute make one call to each provider; a minute later it asks again', async () => {
    const clock = new ShiftClock();
    const { a, fake } = await start({ pagerduty: ['requester@example.com'], opsgenie: [], clock });
    await command(a, 'sbx readonly 1h INC-1 first');
    await waitUntil(async () => ((await events(a, 'grant')).length === 1 ? true : undefined), 'first grant');
    await command(a, 'sbx readonly 1h INC-2 second');
    await waitUntil(async () => ((await events(a, 'grant')).length === 2 ? true : undefined), 'second grant');
    expect(fake.callsTo('pagerduty')).toHaveLength(1);
    expect(fake.callsTo('opsgenie')).toHaveLength(1);

    clock.advance(61_000);
    await command(a, 'sbx readonly 1h INC-3 third');
    await waitUntil(async () => ((await events(a, 'grant')).length === 3 ? true : undefined), 'third grant');
    expect(fake.callsTo('pagerduty')).toHaveLength(2);
  });
});

describe('on AWS (moto)', () => {
  let redis: Redis | undefined;
  afterEach(async () => {
    await redis?.quit();
    redis = undefined;
  });

  it('the on-call approver’s approval and the on-call requester’s auto-approval each create the role', async () => {
    await resetMoto();
    redis = new Redis(redisUrl());
    const fake = await startFakeSlack();
    const loaded = testConfig();
    const aws = await createAwsServices({
      clock: systemClock,
      env: testEnv(fake),
      loaded,
      redis,
      logger: createLogger({ level: 'silent' }),
      sleep: async () => undefined,
    });
    const { a } = await start({
      pagerduty: [ON_CALL_EMAIL],
      opsgenie: ['requester@example.com'],
      app: {
        fake,
        loaded,
        adapters: { grants: aws.grants, templates: aws.templates, accounts: aws.accounts },
      },
      mutate: (c) => {
        c.approval.rules[0]!.onCallAutoApprove!.templates = ['s3-data-reader'];
      },
    });
    const roleOf = async (accountId: string, requestId: string) => {
      const iam = await aws.accountClients.iam(accountId);
      return (await iam.send(new GetRoleCommand({ RoleName: `aws-access-${requestId}` }))).Role;
    };

    // Not on an account of the auto-approval: the on-call approver decides.
    await command(a, 'prod s3-data-reader 1h INC-1 reading the export');
    const msg = await approverMessage(a.fake);
    await click(a, ON_CALL, 'request_approve', msg);
    await waitUntil(async () => (await stateOf(a, msg.requestId)) === 'active', 'approved grant active');
    expect((await roleOf('111111111111', msg.requestId))?.Path).toBe('/aws-access/');

    await command(a, 'sbx s3-data-reader 1h INC-2 reading the export');
    const [auto] = await waitUntil(async () => {
      const found = await events(a, 'on-call-auto-approve');
      return found.length ? found : undefined;
    }, 'the on-call auto-approval');
    await waitUntil(
      async () => (await stateOf(a, auto!.requestId!)) === 'active',
      'auto-approved grant active',
    );
    expect((await roleOf('222222222222', auto!.requestId!))?.Tags).toContainEqual({
      Key: 'aws-access:template',
      Value: 's3-data-reader',
    });
  });
});
