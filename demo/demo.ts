/**
 * `npm run demo`: the whole flow on this machine, with no Slack workspace and no AWS account.
 * The real service (`startService`, role `all`) runs against Redis, moto and a fake Slack Web
 * API; the script plays the people, sending signed Slack requests exactly as Slack would, and
 * prints what each of them sees.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import type { EnvOptions } from '../src/config/env.js';
import { loadConfig, type LoadedConfig } from '../src/config/load-config.js';
import type { AccessRequest } from '../src/domain/access-request.js';
import { formatDuration, parseDuration } from '../src/domain/duration.js';
import type { Finding } from '../src/domain/hygiene/types.js';
import { sendRotationReminders } from '../src/jobs/hygiene-reminders.js';
import { sweepAccount } from '../src/jobs/hygiene-sweep.js';
import { hygieneContext } from '../src/jobs/hygiene-workers.js';
import { jobId, QueueName } from '../src/jobs/queues.js';
import { createLogger } from '../src/logger.js';
import { startService, type RunningService } from '../src/main.js';
import { slackHygieneAdapters } from '../src/slack/hygiene/adapters.js';
import { createRedis } from '../src/store/redis-connection.js';
import type { FakeSlack, RecordedCall } from '../test/support/fake-slack.js';
import {
  blockActionsBody,
  postToSlackEvents,
  slashCommandBody,
  TEST_HMAC_KEY,
  TEST_SIGNING_SECRET,
} from '../test/support/slack-request.js';
import { brokerClients, createHygieneUsers, describeRole, HYGIENE_USERS } from './aws-side.js';
import type { Names } from './block-kit-text.js';
import { startInfrastructure, type Infrastructure } from './local-infrastructure.js';
import { isVisible, Transcript, type Output } from './transcript.js';

export const DEMO_CONFIG_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'config.yaml');

export const PEOPLE = {
  alice: { id: 'U0ALICE', name: 'alice', real_name: 'Alice Anders', email: 'alice@example.com' },
  bob: { id: 'U0BOB', name: 'bob', real_name: 'Bob Brandt', email: 'bob@example.com' },
  carol: { id: 'U0CAROL', name: 'carol', real_name: 'Carol Chen', email: 'carol@example.com' },
  dave: { id: 'U0DAVE', name: 'dave', real_name: 'Dave Diaz', email: 'dave@example.com' },
  erin: { id: 'U0ERIN', name: 'erin', real_name: 'Erin Evans', email: 'erin@example.com' },
} as const;

const GROUPS = {
  S0PLATFORM: { handle: 'platform-oncall', members: [PEOPLE.bob.id, PEOPLE.carol.id] },
  S0DEMOSEC: { handle: 'security-team', members: [PEOPLE.erin.id] },
} as const;

const CHANNELS = { C0GENERAL: 'general' } as const;

const SANDBOX = '222222222222';
const PRODUCTION = '111111111111';
const STAGING = '333333333333';
const DAY_MS = 86_400_000;
/** How far ahead the hygiene sweep's clock runs, so the keys made a minute ago look old. */
const HYGIENE_DAYS_AHEAD = 100;

/** Markers the demo test looks for; one per step of the walk-through. */
export const STEP = {
  request: 'Alice asks for access',
  firstApproval: 'Bob approves: 1 of 2',
  granted: 'Carol approves: 2 of 2, access granted',
  iam: 'In AWS: the role the bot made',
  warning: 'The expiry warning',
  revoked: 'The end of the grant: revocation',
  several: 'Several accounts in one request',
  sweep: 'Credential hygiene: the daily sweep finds old keys',
  reminder: 'Credential hygiene: the rotation reminder',
  audit: 'What the security team saw in #aws-audit',
} as const;

export interface DemoOptions {
  out: Output;
  /** REDIS_URL: used when it answers, otherwise a throwaway redis-server is started. */
  redisUrl?: string;
  /** AWS_ENDPOINT_URL of a running moto server; otherwise a throwaway one is started. */
  awsEndpointUrl?: string;
  /** How long Alice asks for (default 1m). */
  grant?: string;
  /** durations.expiryWarning (default 30s, from demo/config.yaml). */
  expiryWarning?: string;
  /** The service's log level; logs go to stderr (default silent). */
  logLevel?: string;
}

export interface StepResult {
  name: string;
  ok: boolean;
}

export interface DemoResult {
  ok: boolean;
  steps: StepResult[];
  /** What the demo started and must have stopped (for the test). */
  redisUrl: string;
  redisStarted: boolean;
  awsEndpointUrl: string;
  motoStarted: boolean;
  servicePort?: number;
  redisPrefix: string;
}

/** The AWS SDK's default chain must never find real credentials: moto accepts any keys. */
export function useDemoAwsCredentials(env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_ACCESS_KEY_ID = 'demo';
  env.AWS_SECRET_ACCESS_KEY = 'demo';
  env.AWS_REGION = 'us-east-1';
  delete env.AWS_SESSION_TOKEN;
  delete env.AWS_PROFILE;
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function hasAction(call: RecordedCall, actionId: string): boolean {
  return JSON.stringify(call.args.blocks ?? []).includes(`"action_id":"${actionId}"`);
}

function json(call: RecordedCall): string {
  return JSON.stringify(call.args);
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

export function seedSlack(fake: FakeSlack): void {
  for (const person of Object.values(PEOPLE)) fake.addUser({ ...person, tz: 'UTC' });
  for (const [id, group] of Object.entries(GROUPS)) fake.setUsergroup(id, [...group.members]);
}

export function namesFor(loaded: LoadedConfig): Names {
  const { channels } = loaded.config.slack;
  return {
    users: new Map(Object.values(PEOPLE).map((p) => [p.id as string, p.name as string])),
    channels: new Map<string, string>([
      [channels.approvals, 'aws-approvals'],
      [channels.audit, 'aws-audit'],
      [channels.security, 'security'],
      ...Object.entries(CHANNELS),
    ]),
    groups: new Map(Object.entries(GROUPS).map(([id, g]) => [id, g.handle])),
  };
}

/** Runs the walk-through; always stops what it started, even when a step fails. */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const grantText = options.grant ?? '1m';
  const loaded = await loadConfig(DEMO_CONFIG_FILE);
  const config = loaded.config;
  // A prefix of its own: a shared Redis never mixes this run with another one.
  config.redis.prefix = `${config.redis.prefix}-${randomBytes(4).toString('hex')}`;
  if (options.expiryWarning) config.durations.expiryWarning = parseDuration(options.expiryWarning);
  const grantSeconds = parseDuration(grantText);
  const names = namesFor(loaded);
  const t = new Transcript(options.out, names);
  const steps: StepResult[] = [];
  const record = (name: string, ok: boolean) => {
    steps.push({ name, ok });
    if (!ok) t.missing(`${name}: did not happen`);
  };

  t.title('aws-access-bot demo — just-in-time AWS access from Slack, on this machine');
  t.line('  Nothing here talks to Slack or AWS: the real service runs against local Redis, moto');
  t.line('  (a local AWS) and a fake Slack Web API. The script plays the people; each box below');
  t.line('  is a message the bot sent, shown to whoever Slack would show it to.\n');

  const infra: Infrastructure = await startInfrastructure({
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
  let service: RunningService | undefined;
  let redis: Redis | undefined;
  try {
    seedSlack(fake);
    const env: EnvOptions = {
      slackBotToken: 'xoxb-demo-not-a-real-token',
      slackSigningSecret: TEST_SIGNING_SECRET,
      hmacKey: TEST_HMAC_KEY,
      slackApiUrl: fake.apiUrl,
      redisUrl: infra.redisUrl,
      awsRegion: 'us-east-1',
      awsEndpointUrl: infra.awsEndpointUrl,
      configPath: DEMO_CONFIG_FILE,
      port: 0,
      logLevel: options.logLevel ?? 'silent',
    };
    const accounts = brokerClients(env, config);
    await createHygieneUsers(await accounts.iam(PRODUCTION));
    const logger = createLogger({
      level: env.logLevel,
      destination: pino.destination({ dest: 2, sync: true }),
    });
    service = await startService({ env, role: 'all', logger, loaded, host: '127.0.0.1' });
    result.servicePort = service.port;
    const baseUrl = `http://127.0.0.1:${service.port}`;
    t.note(`the service: startService({ role: 'all' }) on ${baseUrl} — Slack requests go to /slack/events`);
    t.note(`config: demo/config.yaml, templates: templates/ (Redis prefix ${config.redis.prefix})`);
    t.line('\n  The team: @alice (engineer) · @bob and @carol (@platform-oncall, approve sandbox access)');
    t.line('            @dave (owns the CI user ci-deploy) · @erin (@security-team)');
    t.line(
      `  moto has three accounts: production (${PRODUCTION}) with IAM users ${HYGIENE_USERS.map((u) => u.userName).join(', ')}, sandbox (${SANDBOX}) and staging (${STAGING}).`,
    );

    let mark = fake.calls.length;
    const audit = config.slack.channels.audit;
    /** Prints what people saw since the last flush (audit-channel batches come at the end). */
    const flush = (actorId?: string) => {
      const calls = fake.calls.slice(mark);
      mark = fake.calls.length;
      for (const call of calls) {
        if (!isVisible(call) || call.args.channel === audit) continue;
        t.slack(call, actorId);
      }
    };
    const post = (body: string) => postToSlackEvents(baseUrl, body);
    const { alice, bob, carol, dave } = PEOPLE;

    // ── 1. the request ────────────────────────────────────────────────────
    t.section(STEP.request);
    const commandText = `sandbox readonly ${grantText} INC-1 investigating the failed deploy`;
    t.action('@alice types in #general:', `/aws-access ${commandText}`);
    await post(
      slashCommandBody({
        text: commandText,
        userId: alice.id,
        userName: alice.name,
        channelId: 'C0GENERAL',
        responseUrl: fake.responseUrl('alice'),
      }),
    );
    const approverCall = await waitFor(
      () =>
        fake
          .callsTo('chat.postMessage')
          .find((c) => c.args.channel === config.slack.channels.approvals && hasAction(c, 'request_approve')),
      10_000,
    );
    await waitFor(() => fake.callsTo('response_url')[0], 5000);
    flush(alice.id);
    record(STEP.request, Boolean(approverCall));
    if (!approverCall) throw new Error('no approval request reached #aws-approvals');
    const requestId = String(
      (approverCall.args.blocks as Array<{ elements?: Array<{ action_id?: string; value?: string }> }>)
        .flatMap((b) => b.elements ?? [])
        .find((e) => e.action_id === 'request_approve')?.value,
    );
    const message = { channel: String(approverCall.args.channel), ts: String(approverCall.response?.ts) };
    const click = (userId: string) =>
      post(
        blockActionsBody({
          userId,
          actionId: 'request_approve',
          value: requestId,
          blockId: 'decision',
          message,
        }),
      );
    const updates = () =>
      fake
        .callsTo('chat.update')
        .filter((c) => c.args.channel === message.channel && c.args.ts === message.ts);
    const request = () => service!.requests.get(requestId);

    // ── 2. first approval ─────────────────────────────────────────────────
    t.section(STEP.firstApproval);
    t.action('@bob clicks', '[ Approve ] on the request in #aws-approvals');
    await click(bob.id);
    const oneOfTwo = await waitFor(() => updates().find((c) => json(c).includes('1 of 2')), 10_000);
    flush(bob.id);
    const stillPending = (await request())?.state === 'pending';
    if (stillPending) t.ok('still pending: the sandbox rule needs two approvals, nothing is granted yet');
    record(STEP.firstApproval, Boolean(oneOfTwo) && stillPending);

    // ── 3. second approval → grant ────────────────────────────────────────
    t.section(STEP.granted);
    t.action('@carol clicks', '[ Approve ]');
    await click(carol.id);
    const active = await waitFor(async () => {
      const r = await request();
      return r?.state === 'active' || r?.state === 'failed' ? r : undefined;
    }, 90_000);
    const delivery = await waitFor(
      () =>
        fake
          .callsTo('chat.postMessage')
          .find((c) => c.args.channel === alice.id && json(c).includes('switchrole')),
      10_000,
    );
    await waitFor(() => updates().find((c) => json(c).includes('active')), 5000);
    flush(carol.id);
    const granted: AccessRequest | undefined = active?.state === 'active' ? active : undefined;
    if (granted?.expiresAt) {
      t.ok(
        `request ${requestId} is active until ${clock(granted.expiresAt)} UTC (${formatDuration(grantSeconds)}); the delivery went to Alice by DM only`,
      );
    } else if (active) {
      t.missing(`granting failed: ${active.failure ?? 'unknown reason'}`);
    }
    record(STEP.granted, Boolean(granted && delivery));
    if (!granted?.expiresAt || !granted.roleName) throw new Error('the grant did not become active');

    // ── 4. the AWS side ───────────────────────────────────────────────────
    t.section(STEP.iam);
    const sandboxIam = await accounts.iam(SANDBOX);
    const role = await describeRole(sandboxIam, granted.roleName);
    if (role) {
      t.line(`  role                ${role.arn}`);
      t.line(`  path                ${role.path}   (the broker may only touch roles under /aws-access/)`);
      t.line(`  boundary            ${role.boundaryArn ?? '(none!)'}`);
      t.line(`  managed policies    ${role.managedPolicies.join(', ') || '(none)'}`);
      t.line(
        `  inline policies     ${role.inlinePolicies.join(', ')}   ("expiry" denies everything after the end)`,
      );
      t.line(`  max session         ${role.maxSessionDuration ?? '?'} s`);
      for (const [key, value] of Object.entries(role.tags)) t.line(`  tag ${key.padEnd(24)} ${value}`);
    }
    const grantsQueue = service.queues.get(QueueName.grants);
    for (const id of [jobId.warn(requestId), jobId.revoke(requestId)]) {
      const job = await grantsQueue.getJob(id);
      if (job) t.note(`BullMQ job ${id} is due at ${clock(job.timestamp + (job.delay ?? 0))} UTC`);
    }
    const boundaryOk = Boolean(role?.boundaryArn?.includes('/aws-access/boundary-readonly'));
    if (boundaryOk)
      t.ok('the role carries the readonly boundary: whatever else it gets, it can never do more');
    record(STEP.iam, Boolean(role) && boundaryOk && role?.path === '/aws-access/');

    // ── 5. expiry warning ─────────────────────────────────────────────────
    t.section(STEP.warning);
    const warnAt = granted.expiresAt - config.durations.expiryWarning * 1000;
    t.note(
      `waiting until ${clock(warnAt)} UTC, ${formatDuration(config.durations.expiryWarning)} before the end (production default: 10 minutes)…`,
    );
    const deliveredAt = fake.calls.indexOf(delivery!);
    const warning = await waitFor(
      () =>
        fake.calls
          .slice(deliveredAt + 1)
          .find(
            (c) =>
              c.method === 'chat.postMessage' && c.args.channel === alice.id && /expir|extend/i.test(json(c)),
          ),
      Math.max(0, warnAt - Date.now()) + 20_000,
      250,
    );
    flush();
    if (!warning) t.note('no warning DM came: the warn-<id> job has no worker in this build (issue #5)');
    record(STEP.warning, Boolean(warning));

    // ── 6. revocation ─────────────────────────────────────────────────────
    t.section(STEP.revoked);
    t.note(`waiting until ${clock(granted.expiresAt)} UTC, when the revoke job is due…`);
    const revoked = await waitFor(
      async () => ((await request())?.state === 'revoked' ? true : undefined),
      Math.max(0, granted.expiresAt - Date.now()) + 30_000,
      250,
    );
    await waitFor(() => updates().find((c) => json(c).includes('revoked')), 5000);
    flush();
    const roleAfter = await describeRole(sandboxIam, granted.roleName);
    if (revoked) {
      const r = await request();
      t.ok(
        `revoked at ${clock(r?.revokedAt ?? Date.now())} UTC, ${Math.round(((r?.revokedAt ?? Date.now()) - granted.expiresAt) / 1000)} s after the end`,
      );
    } else {
      t.note('the request was not revoked: the revoke-<id> job has no worker in this build (issue #5)');
    }
    if (!roleAfter) t.ok(`${granted.roleName} no longer exists in moto (GetRole: NoSuchEntity)`);
    else t.note(`${granted.roleName} still exists in moto; IAM's own "expiry" deny still ends its use`);
    record(STEP.revoked, Boolean(revoked) && !roleAfter);

    // ── 6b. several accounts in one request ───────────────────────────────
    t.section(STEP.several);
    const severalText = 'sandbox,staging readonly 30m INC-2 comparing the two environments';
    t.action('@alice types in #general:', `/aws-access ${severalText}`);
    t.note('sandbox needs 2 approvals, staging 1: the strictest rule wins, so both accounts need 2');
    await post(
      slashCommandBody({
        text: severalText,
        userId: alice.id,
        userName: alice.name,
        channelId: 'C0GENERAL',
        responseUrl: fake.responseUrl('alice-several'),
      }),
    );
    const groupCall = await waitFor(
      () =>
        fake
          .callsTo('chat.postMessage')
          .find((c) => c.args.channel === config.slack.channels.approvals && hasAction(c, 'group_approve')),
      10_000,
    );
    await waitFor(() => fake.callsTo('response_url').find((c) => json(c).includes('for 2 accounts')), 5000);
    flush(alice.id);
    const groupId = String(
      (
        groupCall?.args.blocks as
          Array<{ elements?: Array<{ action_id?: string; value?: string }> }> | undefined
      )
        ?.flatMap((b) => b.elements ?? [])
        .find((e) => e.action_id === 'group_approve')?.value,
    );
    const groupMessage = { channel: String(groupCall?.args.channel), ts: String(groupCall?.response?.ts) };
    const clickGroup = (userId: string, actionId: string, inMessage = groupMessage) =>
      post(
        blockActionsBody({ userId, actionId, value: groupId, blockId: 'group_decision', message: inMessage }),
      );
    const groupState = async () => {
      const view = await service!.requests.groupStatus(groupId, alice.id);
      return view.ok ? view.view.members : [];
    };
    t.action('@bob clicks', '[ Approve ] on the one message for both accounts');
    await clickGroup(bob.id, 'group_approve');
    await waitFor(
      async () => ((await groupState()).every((m) => m.approvals.length === 1) ? true : undefined),
      10_000,
    );
    await waitFor(
      () =>
        fake
          .callsTo('chat.update')
          .find((c) => c.args.ts === groupMessage.ts && json(c).includes('1 of 2 approvals')),
      5000,
    );
    flush(bob.id);
    const nothingYet = (await groupState()).every((m) => m.state === 'pending');
    if (nothingYet) t.ok('counted on both accounts; nothing is granted until every account has its 2');
    t.action('@carol clicks', '[ Approve ]');
    await clickGroup(carol.id, 'group_approve');
    const bothActive = await waitFor(async () => {
      const members = await groupState();
      return members.length === 2 && members.every((m) => m.state === 'active') ? members : undefined;
    }, 60_000);
    const groupDm = await waitFor(
      () =>
        fake
          .callsTo('chat.postMessage')
          .find((c) => c.args.channel === alice.id && hasAction(c, 'group_revoke')),
      10_000,
    );
    flush(carol.id);
    if (bothActive) {
      t.ok(
        `one role per account: ${bothActive.map((m) => `${m.roleName} in ${m.accountName}`).join(', ')}, each with its own revoke job; one DM listed both`,
      );
    }
    const stagingRole = bothActive?.find((m) => m.accountId === STAGING)?.roleName;
    const stagingIam = await accounts.iam(STAGING);
    const stagingRoleMade = Boolean(stagingRole && (await describeRole(stagingIam, stagingRole)));
    t.action('@alice clicks', '[ Revoke all ] in the DM');
    if (groupDm) {
      await clickGroup(alice.id, 'group_revoke', {
        channel: String(groupDm.args.channel),
        ts: String(groupDm.response?.ts),
      });
    }
    const allRevoked = await waitFor(async () => {
      const members = await groupState();
      return members.length === 2 && members.every((m) => m.state === 'revoked') ? true : undefined;
    }, 30_000);
    flush(alice.id);
    const stagingRoleGone = Boolean(stagingRole && !(await describeRole(stagingIam, stagingRole)));
    if (allRevoked && stagingRoleGone) t.ok('both grants revoked and their roles removed from moto');
    record(
      STEP.several,
      Boolean(groupCall) &&
        nothingYet &&
        Boolean(bothActive && groupDm) &&
        stagingRoleMade &&
        Boolean(allRevoked) &&
        stagingRoleGone,
    );

    // ── 7. hygiene sweep ──────────────────────────────────────────────────
    t.section(STEP.sweep);
    t.note(
      `the sweep runs as the daily 06:00 job would, but with a clock ${HYGIENE_DAYS_AHEAD} days ahead, so the keys made a minute ago are ${HYGIENE_DAYS_AHEAD} days old`,
    );
    redis = createRedis(infra.redisUrl, 'worker');
    const hygieneSlack = new WebClient(env.slackBotToken, {
      slackApiUrl: fake.apiUrl,
      retryConfig: { retries: 0 },
    });
    const hygiene = hygieneContext({
      ...slackHygieneAdapters(hygieneSlack, config, { logger }),
      config,
      logger,
      connection: redis,
      accounts,
      clock: { now: () => Date.now() + HYGIENE_DAYS_AHEAD * DAY_MS },
      reportOptions: { baseDelayMs: 20, maxDelayMs: 200 },
    });
    const sweep = await sweepAccount(hygiene, PRODUCTION, { mode: 'report' });
    t.line(`\n  IAM credential report of production (${PRODUCTION}): ${sweep.findings.length} findings`);
    for (const f of sweep.findings) t.line(`    - ${describeFinding(f, t)}`);
    flush();
    const daveOwns = sweep.findings.some(
      (f) => f.kind === 'key-past-rotation' && f.owner?.kind === 'slack' && f.owner.slackUserId === dave.id,
    );
    t.note('owned findings go to their owner (next step); the rest goes to #security once, when first seen');
    record(
      STEP.sweep,
      daveOwns &&
        fake.callsTo('chat.postMessage').some((c) => c.args.channel === config.slack.channels.security),
    );

    // ── 8. rotation reminder ──────────────────────────────────────────────
    t.section(STEP.reminder);
    t.note('the daily 09:00 reminder job reads the stored findings and DMs each key owner');
    const reminders = await sendRotationReminders(hygiene);
    flush();
    record(STEP.reminder, (reminders.reminded[dave.id]?.length ?? 0) > 0);

    // ── 9. the audit trail ────────────────────────────────────────────────
    t.section(STEP.audit);
    const auditPosts = () => fake.callsTo('chat.postMessage').filter((c) => c.args.channel === audit);
    // Audit events are posted in batches every slack.auditBatchSeconds; wait for the last one.
    await waitFor(
      () => (auditPosts().some((c) => /revoke/.test(json(c))) || !revoked ? true : undefined),
      (config.slack.auditBatchSeconds + 5) * 1000,
    );
    await new Promise((r) => setTimeout(r, (config.slack.auditBatchSeconds + 1) * 1000));
    for (const call of auditPosts()) t.slack(call);
    const verified = await service.audit.verify();
    if (verified.ok)
      t.ok(`audit log hash chain intact: ${verified.entries} entries (aws-access-bot audit verify)`);
    record(STEP.audit, auditPosts().length > 0 && verified.ok);

    result.ok = steps.every((s) => s.ok);
    return result;
  } catch (error) {
    t.missing(`the demo stopped: ${(error as Error).message}`);
    steps.push({ name: 'the demo ran to the end', ok: false });
    return result;
  } finally {
    t.section('Cleaning up');
    await service?.stop();
    t.note('service stopped (Slack receiver, workers, queues, Redis connections)');
    if (redis) {
      if (!infra.redisStarted) await deleteKeys(redis, config.redis.prefix);
      await redis.quit().catch(() => redis?.disconnect());
    } else if (!infra.redisStarted) {
      const r = createRedis(infra.redisUrl);
      await deleteKeys(r, config.redis.prefix);
      await r.quit().catch(() => r.disconnect());
    }
    await infra.stop();
    t.note(
      [
        'fake Slack stopped',
        infra.motoStarted ? 'moto_server stopped' : undefined,
        infra.redisStarted
          ? 'redis-server stopped'
          : `the demo's keys (${config.redis.prefix}*) removed from your Redis`,
      ]
        .filter(Boolean)
        .join(', '),
    );
    t.title('Summary');
    for (const s of steps) t.line(`  ${s.ok ? '✔' : '✘'} ${s.name}`);
    t.line(
      steps.every((s) => s.ok)
        ? '\n  Every step happened. Next: README.md → "Production setup".'
        : '\n  Some steps did not happen (see ✘ above).',
    );
  }
}

function describeFinding(f: Finding, t: Transcript): string {
  const who = f.userName ? `${f.userName}: ` : '';
  const owner =
    f.owner?.kind === 'slack' ? ` (owner ${t.user(f.owner.slackUserId)})` : f.userName ? ' (no owner)' : '';
  return `${f.kind}: ${who}${f.detail}${owner}`;
}

export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}
