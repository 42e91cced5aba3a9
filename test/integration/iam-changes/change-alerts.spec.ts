import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { WebClient } from '@slack/web-api';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock.js';
import type { LoadedConfig } from '../../../src/config/load-config.js';
import { flushAlerts, handleBatch, pollSeconds } from '../../../src/domain/iam-changes/consume.js';
import {
  changeAlertDeps,
  startChangeAlertConsumer,
  type ChangeAlertConsumerOptions,
} from '../../../src/jobs/iam-change-alerts.js';
import { QueueName, queueOptions } from '../../../src/jobs/queues.js';
import { createLogger } from '../../../src/logger.js';
import { createRedis } from '../../../src/store/redis-connection.js';
import { SlackChangeAlertNotifier } from '../../../src/slack/posture/change-alerts.js';
import { testEnv } from '../../support/app-harness.js';
import { cloudTrailEvent } from '../../support/cloudtrail-events.js';
import type { FakeSlack } from '../../support/fake-slack.js';
import { awsEndpointUrl, redisUrl } from '../../support/services.js';
import { captureLogs, ManualClock, startHygieneServices } from '../hygiene/support.js';

const SECURITY = 'C0SECURITY';
const sqs = new SQSClient({
  region: 'us-east-1',
  endpoint: awsEndpointUrl(),
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});

async function send(queueUrl: string, bodies: string[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: bodies.slice(i, i + 10).map((body, j) => ({ Id: `m${i + j}`, MessageBody: body })),
      }),
    );
  }
}
const json = (e: object) => JSON.stringify(e);

describe('IAM change alerts from EventBridge through SQS', () => {
  let fake: FakeSlack;
  let loaded: LoadedConfig;
  let redis: Redis;
  let connection: Redis;
  let cleanup: () => Promise<void>;
  let queueUrl: string;
  let clock: ManualClock;
  let logs: ReturnType<typeof captureLogs>;
  let options: ChangeAlertConsumerOptions;
  const closers: Array<() => Promise<unknown>> = [];

  beforeEach(async () => {
    ({ fake, loaded, redis, cleanup } = await startHygieneServices((c) => {
      c.posture.alerts.groupWindow = 60;
      c.posture.alerts.maxPostsPerMinute = 1;
    }));
    connection = createRedis(redisUrl(), 'worker');
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `iam-changes-${Date.now()}` }))).QueueUrl!;
    loaded.config.posture.alerts.queueUrl = queueUrl;
    clock = new ManualClock(Date.parse('2026-11-30T10:16:00Z'));
    logs = captureLogs();
    const env = testEnv(fake);
    options = {
      config: loaded.config,
      connection,
      notifier: new SlackChangeAlertNotifier(
        new WebClient(env.slackBotToken, { slackApiUrl: env.slackApiUrl, retryConfig: { retries: 0 } }),
        {
          channel: SECURITY,
          accountNames: new Map([
            ['111111111111', 'production'],
            ['222222222222', 'sandbox'],
          ]),
        },
      ),
      clock,
      logger: createLogger({ level: 'debug', destination: logs.stream }),
      aws: { region: 'us-east-1', endpoint: awsEndpointUrl(), maxAttempts: 2 },
      waitTimeSeconds: 1,
    };
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    connection.disconnect();
    await cleanup();
  });

  function consumer() {
    const deps = changeAlertDeps(options);
    closers.push(async () => {
      await deps.reconcileQueue.close();
      await deps.hygieneQueue?.close();
    });
    return deps;
  }
  const posts = () =>
    fake
      .callsTo('chat.postMessage')
      .map((c) => c.args as { channel: string; text: string; blocks: Array<{ text?: { text: string } }> });
  const queueDepth = async () => {
    const { Attributes: a } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return Number(a?.ApproximateNumberOfMessages) + Number(a?.ApproximateNumberOfMessagesNotVisible);
  };

  it('posts who changed what and where, in words, once the group window has passed', async () => {
    await send(queueUrl, [
      json(cloudTrailEvent({ eventName: 'CreateUser', requestParameters: { userName: 'mallory' } })),
    ]);
    const deps = consumer();
    expect(await handleBatch(deps)).toMatchObject({ received: 1, alerts: 1, dropped: 0 });
    expect(await queueDepth()).toBe(0);
    expect(await flushAlerts(deps)).toBe(0);
    expect(posts()).toEqual([]);

    clock.set(clock.now() + 60_000);
    expect(await flushAlerts(deps)).toBe(1);
    expect(posts()).toHaveLength(1);
    expect(posts()[0]).toMatchObject({
      channel: SECURITY,
      text: 'IAM change in production (111111111111): alice (via role Admin) created IAM user mallory from 203.0.113.5',
    });
  });

  it('groups a burst into one post per window, by account, and says each change', async () => {
    const burst = [
      cloudTrailEvent({ eventName: 'CreateAccessKey', requestParameters: { userName: 'ci' } }),
      cloudTrailEvent({
        eventName: 'AttachUserPolicy',
        requestParameters: { userName: 'ci', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' },
      }),
      cloudTrailEvent({
        eventName: 'PutUserPolicy',
        actor: 'user:bob',
        requestParameters: { userName: 'ci', policyName: 'all' },
      }),
      cloudTrailEvent({
        eventName: 'CreateLoginProfile',
        account: '222222222222',
        requestParameters: { userName: 'ci' },
      }),
      cloudTrailEvent({
        eventName: 'DeactivateMFADevice',
        account: '222222222222',
        actor: 'root',
        requestParameters: { userName: 'ops', serialNumber: 'arn:aws:iam::222222222222:mfa/ops' },
      }),
      cloudTrailEvent({
        eventName: 'UpdateAssumeRolePolicy',
        requestParameters: { roleName: 'deploy', policyDocument: '{}' },
      }),
      cloudTrailEvent({
        eventName: 'DeleteRolePermissionsBoundary',
        requestParameters: { roleName: 'deploy' },
      }),
      // Not in posture.alerts.events: no post.
      cloudTrailEvent({ eventName: 'TagUser', requestParameters: { userName: 'ci' } }),
    ];
    await send(queueUrl, burst.map(json));
    const deps = consumer();
    const result = await handleBatch(deps);
    expect(result).toMatchObject({ received: 8, alerts: 7 });
    clock.set(clock.now() + 60_000);
    expect(await flushAlerts(deps)).toBe(1);
    expect(posts()).toHaveLength(1);
    const post = posts()[0]!;
    expect(post.text).toBe('7 IAM changes in 2 accounts');
    const text = post.blocks.map((b) => b.text?.text ?? '').join('\n');
    for (const said of [
      'alice (via role Admin) created an access key for user ci',
      'alice (via role Admin) attached arn:aws:iam::aws:policy/AdministratorAccess to user ci',
      'IAM user bob put inline policy all on user ci',
      'alice (via role Admin) gave user ci a console password',
      'the root user deactivated the MFA device of user ops',
      'alice (via role Admin) changed the trust policy of role deploy',
      'alice (via role Admin) removed the permissions boundary of role deploy',
    ])
      expect(text).toContain(said);
    expect(text).not.toContain('TagUser');
    expect(text.indexOf('*production (111111111111)*')).toBeLessThan(
      text.indexOf('*sandbox (222222222222)*'),
    );
  });

  it('the next long poll waits no longer than until the oldest pending alert is due', async () => {
    const deps = consumer();
    expect(await pollSeconds(deps)).toBe(20);
    await send(queueUrl, [
      json(cloudTrailEvent({ eventName: 'CreateUser', requestParameters: { userName: 'x' } })),
    ]);
    await handleBatch(deps);
    expect(await pollSeconds(deps)).toBe(20);
    clock.set(clock.now() + 45_000);
    expect(await pollSeconds(deps)).toBe(15);
    clock.set(clock.now() + 30_000);
    expect(await pollSeconds(deps)).toBe(0);
  });

  it('is idempotent on the event id: a redelivered event is posted once', async () => {
    const event = json(
      cloudTrailEvent({ id: 'evt-1', eventName: 'CreateUser', requestParameters: { userName: 'eve' } }),
    );
    await send(queueUrl, [event, event]);
    const deps = consumer();
    await handleBatch(deps);
    clock.set(clock.now() + 60_000);
    await flushAlerts(deps);
    // Delivered again after it was posted.
    await send(queueUrl, [event]);
    await handleBatch(deps);
    clock.set(clock.now() + 120_000);
    await flushAlerts(deps);
    expect(posts()).toHaveLength(1);
    expect(posts()[0]!.text).toContain('created IAM user eve');
  });

  it('a change under /aws-access/ not made by the broker is posted and reconciles at once; the broker’s own is not', async () => {
    await send(queueUrl, [
      json(
        cloudTrailEvent({
          id: 'evt-human',
          eventName: 'AttachRolePolicy',
          requestParameters: {
            roleName: 'aws-access-req-1',
            policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess',
          },
        }),
      ),
      json(
        cloudTrailEvent({
          id: 'evt-broker',
          eventName: 'PutRolePolicy',
          actor: 'aws-access-broker/aws-access-bot',
          requestParameters: { roleName: 'aws-access-req-2', policyName: 'expiry' },
        }),
      ),
      json(
        cloudTrailEvent({
          id: 'evt-boundary',
          eventName: 'CreatePolicyVersion',
          actor: 'Admin/alice',
          requestParameters: { policyArn: 'arn:aws:iam::111111111111:policy/aws-access/boundary-readonly' },
        }),
      ),
    ]);
    const deps = consumer();
    expect(await handleBatch(deps)).toMatchObject({ received: 3, alerts: 2, reconciles: 2 });
    const reconcile = new Queue(QueueName.reconcile, queueOptions(redis, loaded.config.redis.prefix));
    closers.push(() => reconcile.close());
    const jobs = await reconcile.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(jobs.map((j) => [j.id, j.name, j.data]).sort()).toEqual([
      [
        'reconcile-iam-change-evt-boundary',
        'reconcile',
        { accountId: '111111111111', trigger: 'iam-change', eventId: 'evt-boundary' },
      ],
      [
        'reconcile-iam-change-evt-human',
        'reconcile',
        { accountId: '111111111111', trigger: 'iam-change', eventId: 'evt-human' },
      ],
    ]);
    clock.set(clock.now() + 60_000);
    await flushAlerts(deps);
    const text = posts()[0]!
      .blocks.map((b) => b.text?.text ?? '')
      .join('\n');
    expect(posts()[0]!.text).toBe("2 IAM changes in 1 account (2 to the bot's own roles)");
    expect(text).toContain(
      'alice (via role Admin) attached arn:aws:iam::aws:policy/AdministratorAccess to role aws-access-req-1 from 203.0.113.5 (a bot-managed /aws-access/ role or policy, changed outside the bot)',
    );
    expect(text).not.toContain('aws-access-req-2');
  });

  it('logs and drops a malformed message without stopping the batch', async () => {
    await send(queueUrl, [
      'this is not json',
      json({
        id: 'x',
        'detail-type': 'EC2 Instance State-change Notification',
        source: 'aws.ec2',
        account: '111111111111',
        time: 'now',
        detail: {},
      }),
      json(cloudTrailEvent({ eventName: 'CreateUser', requestParameters: { userName: 'after-the-poison' } })),
    ]);
    const deps = consumer();
    expect(await handleBatch(deps)).toMatchObject({ received: 3, dropped: 2, alerts: 1, failed: 0 });
    expect(await queueDepth()).toBe(0);
    const dropped = logs.lines.filter(
      (l) => l.msg === 'IAM change message is not a CloudTrail IAM event: dropped',
    );
    expect(dropped.map((l) => l.problem)).toEqual(
      expect.arrayContaining(['body is not JSON', expect.stringMatching(/^not a CloudTrail IAM event: /)]),
    );
    // The log says why, never the body.
    expect(JSON.stringify(logs.lines)).not.toContain('this is not json');
  });

  it('rate-limits posts: a burst larger than one post waits for the next minute', async () => {
    await send(
      queueUrl,
      Array.from({ length: 35 }, (_, i) =>
        json(cloudTrailEvent({ eventName: 'CreateUser', requestParameters: { userName: `bulk-${i}` } })),
      ),
    );
    const deps = consumer();
    while ((await handleBatch(deps)).received > 0);
    expect(await flushAlerts(deps)).toBe(1);
    expect(posts()[0]!.text).toBe('30 IAM changes in 1 account');
    expect(await flushAlerts(deps)).toBe(0);
    clock.set(clock.now() + 60_000);
    expect(await flushAlerts(deps)).toBe(1);
    expect(posts()[1]!.text).toBe('5 IAM changes in 1 account');
  });

  it('the running consumer long-polls, survives a poison message, posts, and stops on close', async () => {
    options.clock = systemClock;
    options.config.posture.alerts.groupWindow = 1;
    options.pauseAfterErrorMs = 50;
    const running = startChangeAlertConsumer(options);
    closers.push(() => running.close());
    await send(queueUrl, [
      '{"broken":',
      json(cloudTrailEvent({ eventName: 'CreateUser', requestParameters: { userName: 'late' } })),
    ]);
    await expect.poll(() => posts().length, { timeout: 15_000 }).toBe(1);
    expect(posts()[0]!.text).toContain('created IAM user late');
    await running.close();
    closers.pop();
  }, 30_000);
});
