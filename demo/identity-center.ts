/**
 * `npm run demo -- --identity-center` (or DEMO_SCENE=identity-center): the identity-center
 * backend on this machine. The sandbox account grants through IAM Identity Center (moto's
 * sso-admin and identitystore; the calls moto lacks are answered by the test suite's small
 * proxy, test/support/identity-center-gaps.ts). Alice asks twice for the same access: one
 * assignment serves both requests and stays until the second ends; Dave, who has no Identity
 * Center user, is refused before anyone is asked to approve.
 */
import { randomBytes } from 'node:crypto';
import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import {
  GetInlinePolicyForPermissionSetCommand,
  ListAccountAssignmentsCommand,
  SSOAdminClient,
} from '@aws-sdk/client-sso-admin';
import { pino } from 'pino';
import type { EnvOptions } from '../src/config/env.js';
import { loadConfig } from '../src/config/load-config.js';
import { createLogger } from '../src/logger.js';
import { startService, type RunningService } from '../src/main.js';
import { createRedis } from '../src/store/redis-connection.js';
import type { RecordedCall } from '../test/support/fake-slack.js';
import { startIdentityCenterGaps, type IdentityCenterGaps } from '../test/support/identity-center-gaps.js';
import {
  blockActionsBody,
  postToSlackEvents,
  slashCommandBody,
  TEST_HMAC_KEY,
  TEST_SIGNING_SECRET,
} from '../test/support/slack-request.js';
import {
  DEMO_CONFIG_FILE,
  deleteKeys,
  namesFor,
  PEOPLE,
  seedSlack,
  waitFor,
  type DemoOptions,
  type DemoResult,
  type StepResult,
} from './demo.js';
import { startInfrastructure } from './local-infrastructure.js';
import { isVisible, Transcript } from './transcript.js';

const SANDBOX = '222222222222';
const INSTANCE = 'arn:aws:sso:::instance/ssoins-1234567890abcdef';
const STORE = 'd-1234567890';

export const IC_STEP = {
  first: 'Alice asks; Bob and Carol approve: an Identity Center assignment',
  second: 'Alice asks again while the first grant lasts: the same assignment serves both',
  firstEnds: 'The first request ends: the assignment stays',
  secondEnds: 'The second request ends: the assignment goes, earlier sessions are denied',
  refused: 'Dave has no Identity Center user: refused at once',
} as const;

function hasAction(call: RecordedCall, actionId: string): boolean {
  return JSON.stringify(call.args.blocks ?? []).includes(`"action_id":"${actionId}"`);
}

export async function runIdentityCenterDemo(options: DemoOptions): Promise<DemoResult> {
  const loaded = await loadConfig(DEMO_CONFIG_FILE);
  const config = loaded.config;
  config.redis.prefix = `${config.redis.prefix}-idc-${randomBytes(4).toString('hex')}`;
  config.aws.identityCenter = { instanceArn: INSTANCE, identityStoreId: STORE, region: 'us-east-1' };
  config.aws.accounts.find((a) => a.id === SANDBOX)!.grantBackend = 'identity-center';
  const t = new Transcript(options.out, namesFor(loaded));
  const steps: StepResult[] = [];
  const record = (name: string, ok: boolean) => {
    steps.push({ name, ok });
    if (!ok) t.missing(`${name}: did not happen`);
  };

  t.title('aws-access-bot demo — grants through IAM Identity Center, on this machine');
  t.line('  The sandbox account uses the identity-center backend (aws.accounts[].grantBackend): a grant');
  t.line('  is an assignment of the bot-owned permission set aws-access-<template> to the requester’s');
  t.line('  Identity Center user. moto plays Identity Center; a small local proxy answers the calls moto');
  t.line('  lacks (provisioning, set tags, the permissions boundary).\n');

  const infra = await startInfrastructure({
    redisUrl: options.redisUrl,
    awsEndpointUrl: options.awsEndpointUrl,
    say: (text) => t.note(text),
  });
  const result: DemoResult = {
    ok: false,
    steps,
    redisUrl: infra.redisUrl,
    redisStarted: infra.redisStarted,
    awsEndpointUrl: infra.awsEndpointUrl,
    motoStarted: infra.motoStarted,
    redisPrefix: config.redis.prefix,
  };
  const { fake } = infra;
  let gaps: IdentityCenterGaps | undefined;
  let service: RunningService | undefined;
  try {
    gaps = await startIdentityCenterGaps(infra.awsEndpointUrl);
    seedSlack(fake);
    const ids = new IdentitystoreClient({ region: 'us-east-1', endpoint: infra.awsEndpointUrl });
    const sso = new SSOAdminClient({ region: 'us-east-1', endpoint: gaps.url });
    await ids.send(
      new CreateUserCommand({
        IdentityStoreId: STORE,
        UserName: PEOPLE.alice.email,
        DisplayName: PEOPLE.alice.real_name,
        Name: { GivenName: 'Alice', FamilyName: 'Anders' },
        Emails: [{ Value: PEOPLE.alice.email, Primary: true }],
      }),
    );
    t.note(
      `Identity Center (moto): instance ${INSTANCE}, identity store ${STORE}, user ${PEOPLE.alice.email}`,
    );
    const env: EnvOptions = {
      slackBotToken: 'xoxb-demo-not-a-real-token',
      slackSigningSecret: TEST_SIGNING_SECRET,
      hmacKey: TEST_HMAC_KEY,
      slackApiUrl: fake.apiUrl,
      redisUrl: infra.redisUrl,
      awsRegion: 'us-east-1',
      awsEndpointUrl: gaps.url,
      configPath: DEMO_CONFIG_FILE,
      port: 0,
      logLevel: options.logLevel ?? 'silent',
    };
    const logger = createLogger({
      level: env.logLevel,
      destination: pino.destination({ dest: 2, sync: true }),
    });
    service = await startService({ env, role: 'all', logger, loaded, host: '127.0.0.1' });
    const baseUrl = `http://127.0.0.1:${service.port}`;
    result.servicePort = service.port;
    const post = (body: string) => postToSlackEvents(baseUrl, body);
    let mark = fake.calls.length;
    const flush = (actorId?: string) => {
      for (const call of fake.calls.slice(mark)) {
        if (isVisible(call) && call.args.channel !== config.slack.channels.audit) t.slack(call, actorId);
      }
      mark = fake.calls.length;
    };
    const approvals = () =>
      fake
        .callsTo('chat.postMessage')
        .filter((c) => c.args.channel === config.slack.channels.approvals && hasAction(c, 'request_approve'));
    const ask = async (person: { id: string; name: string }, text: string) => {
      t.action(`@${person.name} types in #general:`, `/aws-access ${text}`);
      await post(
        slashCommandBody({
          text,
          userId: person.id,
          userName: person.name,
          channelId: 'C0GENERAL',
          responseUrl: fake.responseUrl(person.name),
        }),
      );
    };
    const grantFor = async (index: number, text: string) => {
      await ask(PEOPLE.alice, text);
      const call = await waitFor(() => approvals()[index], 10_000);
      if (!call) return undefined;
      const requestId = String(
        (call.args.blocks as Array<{ elements?: Array<{ action_id?: string; value?: string }> }>)
          .flatMap((b) => b.elements ?? [])
          .find((e) => e.action_id === 'request_approve')?.value,
      );
      const message = { channel: String(call.args.channel), ts: String(call.response?.ts) };
      for (const approver of [PEOPLE.bob, PEOPLE.carol]) {
        t.action(`@${approver.name} clicks`, '[ Approve ]');
        await post(
          blockActionsBody({
            userId: approver.id,
            actionId: 'request_approve',
            value: requestId,
            blockId: 'decision',
            message,
          }),
        );
      }
      const active = await waitFor(async () => {
        const r = await service!.requests.get(requestId);
        return r?.state === 'active' || r?.state === 'failed' ? r : undefined;
      }, 60_000);
      await waitFor(
        () =>
          fake
            .callsTo('chat.postMessage')
            .find(
              (c) => c.args.channel === PEOPLE.alice.id && JSON.stringify(c.args).includes('sso_account_id'),
            ),
        5000,
      );
      flush(PEOPLE.alice.id);
      return active?.state === 'active' ? active : undefined;
    };
    const assignments = async (permissionSetArn: string) =>
      (
        await sso.send(
          new ListAccountAssignmentsCommand({
            InstanceArn: INSTANCE,
            AccountId: SANDBOX,
            PermissionSetArn: permissionSetArn,
          }),
        )
      ).AccountAssignments ?? [];
    const revoke = async (requestId: string) => {
      t.action('@alice types:', `/aws-access revoke ${requestId}`);
      await post(
        slashCommandBody({
          text: `revoke ${requestId}`,
          userId: PEOPLE.alice.id,
          userName: PEOPLE.alice.name,
          channelId: 'C0GENERAL',
          responseUrl: fake.responseUrl('alice'),
        }),
      );
      const done = await waitFor(
        async () => ((await service!.requests.get(requestId))?.state === 'revoked' ? true : undefined),
        30_000,
      );
      flush(PEOPLE.alice.id);
      return Boolean(done);
    };

    t.section(IC_STEP.first);
    const first = await grantFor(0, 'sandbox readonly 30m INC-7 checking the deploy');
    const arn = first?.roleArn ?? '';
    const afterFirst = first ? await assignments(arn) : [];
    if (first) {
      t.line(`  permission set      ${first.roleName}   ${arn}`);
      t.line(
        `  tags                ${[...(gaps.tags.get(arn) ?? new Map<string, string>())].map(([k, v]) => `${k}=${v}`).join(', ')}`,
      );
      t.line(`  boundary            ${JSON.stringify(gaps.boundaries.get(arn))}`);
      t.line(
        `  assignments         ${afterFirst.map((a) => `${a.PrincipalType} ${a.PrincipalId}`).join(', ')}`,
      );
    }
    record(IC_STEP.first, Boolean(first) && afterFirst.length === 1);

    t.section(IC_STEP.second);
    const second = await grantFor(1, 'sandbox readonly 1h INC-8 a second look');
    const afterSecond = first ? await assignments(arn) : [];
    t.line(
      `  assignments         ${afterSecond.length} (held by requests ${first?.id ?? '?'} and ${second?.id ?? '?'})`,
    );
    record(IC_STEP.second, Boolean(second) && afterSecond.length === 1);

    t.section(IC_STEP.firstEnds);
    const firstRevoked = first ? await revoke(first.id) : false;
    const stays = first ? await assignments(arn) : [];
    if (stays.length === 1) t.ok('the assignment stays: request ' + (second?.id ?? '?') + ' still holds it');
    record(IC_STEP.firstEnds, firstRevoked && stays.length === 1);

    t.section(IC_STEP.secondEnds);
    const secondRevoked = second ? await revoke(second.id) : false;
    const gone = first ? await assignments(arn) : [{}];
    const inline = first
      ? (
          await sso.send(
            new GetInlinePolicyForPermissionSetCommand({ InstanceArn: INSTANCE, PermissionSetArn: arn }),
          )
        ).InlinePolicy
      : '';
    const deny = JSON.parse(inline || '{"Statement":[]}').Statement.find(
      (s: { Effect: string; Condition?: object }) =>
        JSON.stringify(s.Condition ?? {}).includes('TokenIssueTime'),
    ) as object | undefined;
    if (gone.length === 0) t.ok('the assignment is gone');
    if (deny) t.line(`  session deny in the set's inline policy: ${JSON.stringify(deny)}`);
    record(IC_STEP.secondEnds, secondRevoked && gone.length === 0 && Boolean(deny));

    t.section(IC_STEP.refused);
    await ask(PEOPLE.dave, 'sandbox readonly 30m INC-9 need a look');
    const refusal = await waitFor(
      () =>
        fake
          .callsTo('response_url')
          .find((c) => c.args && JSON.stringify(c.args).includes('Identity Center')),
      10_000,
    );
    flush(PEOPLE.dave.id);
    record(IC_STEP.refused, Boolean(refusal) && approvals().length === 2);

    result.ok = steps.every((s) => s.ok);
    return result;
  } catch (error) {
    t.missing(`the demo stopped: ${(error as Error).message}`);
    steps.push({ name: 'the demo ran to the end', ok: false });
    return result;
  } finally {
    t.section('Cleaning up');
    await service?.stop();
    if (!infra.redisStarted) {
      const r = createRedis(infra.redisUrl);
      await deleteKeys(r, config.redis.prefix);
      await r.quit().catch(() => r.disconnect());
    }
    await gaps?.stop();
    await infra.stop();
    t.note('service, proxy, fake Slack and what the demo started are stopped');
    t.title('Summary');
    for (const s of steps) t.line(`  ${s.ok ? '✔' : '✘'} ${s.name}`);
  }
}
