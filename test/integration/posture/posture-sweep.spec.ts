import { AttachRolePolicyCommand } from '@aws-sdk/client-iam';
import { WebClient } from '@slack/web-api';
import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsPostureReader } from '../../../src/aws/posture-reader.js';
import type { LoadedConfig } from '../../../src/config/load-config.js';
import { acceptPostureRisk } from '../../../src/domain/posture/accept-risk.js';
import type { HygieneContext } from '../../../src/jobs/hygiene-context.js';
import { processHygieneJob } from '../../../src/jobs/hygiene-workers.js';
import { postureJobs, type PostureJobs } from '../../../src/jobs/posture-sweep.js';
import { queueOptions, QueueName } from '../../../src/jobs/queues.js';
import { SlackPostureNotifier } from '../../../src/slack/posture/notifier.js';
import { PostureStore } from '../../../src/store/posture-store.js';
import { RedisRequestStore } from '../../../src/store/request-store.js';
import { loadTemplates } from '../../../src/templates/load-templates.js';
import { testEnv } from '../../support/app-harness.js';
import type { FakeSlack } from '../../support/fake-slack.js';
import { awsEndpointUrl } from '../../support/services.js';
import {
  activeRequest,
  ACTIVE_REQUEST_IDS,
  EXPECTED_FINDINGS,
  populatePosture,
  POSTURE_ACCOUNT,
  POSTURE_EXEMPTIONS,
} from '../../support/posture-population.js';
import {
  countingAccountClients,
  makeContext,
  ManualClock,
  startHygieneServices,
} from '../hygiene/support.js';

const DAY_MS = 86_400_000;

describe('the posture review in the daily sweep', () => {
  let fake: FakeSlack;
  let loaded: LoadedConfig;
  let redis: Redis;
  let cleanup: () => Promise<void>;
  let clock: ManualClock;
  let ctx: HygieneContext;
  let jobs: PostureJobs;
  let store: PostureStore;
  const accounts = countingAccountClients();

  beforeAll(async () => {
    ({ fake, loaded, redis, cleanup } = await startHygieneServices((c) => {
      c.posture.unusedRoleDays = 1;
      c.posture.exemptions = POSTURE_EXEMPTIONS;
    }));
    await populatePosture(await accounts.iam(POSTURE_ACCOUNT), awsEndpointUrl());
    const busy = (await awsPostureReader(accounts).read(POSTURE_ACCOUNT)).roles.find(
      (r) => r.name === 'busy',
    )!;
    clock = new ManualClock(busy.lastUsedAt!.getTime() + DAY_MS - 500);
    const requests = new RedisRequestStore(redis, loaded.config.redis.prefix, clock);
    for (const id of ACTIVE_REQUEST_IDS) await requests.create(activeRequest(id, clock.now()));
    ctx = makeContext({ loaded, fake, redis, accounts, clock });
    const env = testEnv(fake);
    const slack = new WebClient(env.slackBotToken, {
      slackApiUrl: env.slackApiUrl,
      retryConfig: { retries: 0 },
    });
    jobs = postureJobs(ctx, redis, accounts, {
      naming: {
        templates: await loadTemplates('templates'),
        partition: 'aws',
        region: 'us-east-1',
        brokerRoleName: 'aws-access-broker',
      },
      notifier: new SlackPostureNotifier(slack, {
        securityChannel: loaded.config.slack.channels.security,
        accountNames: new Map([[POSTURE_ACCOUNT, 'production']]),
      }),
    });
    store = new PostureStore(redis, loaded.config.redis.prefix);
  }, 120_000);
  afterAll(async () => cleanup());
  beforeEach(() => fake.clearCalls());

  const posts = () =>
    fake
      .callsTo('chat.postMessage')
      .map((c) => c.args as { channel: string; text: string; blocks: unknown[] });

  it('the daily sweep fans out one posture job per account, idempotent per day', async () => {
    const queue = new Queue(QueueName.hygiene, queueOptions(redis, loaded.config.redis.prefix));
    try {
      await processHygieneJob(ctx, queue, { name: 'sweep', data: {} } as Job, jobs);
      const ids = (await queue.getJobs(['waiting']))
        .filter((j) => j.name === 'posture-account')
        .map((j) => j.id)
        .sort();
      expect(ids).toEqual(
        [`posture-sweep-111111111111-`, `posture-sweep-222222222222-`].map((p) =>
          expect.stringMatching(new RegExp(`^${p}\\d{4}-\\d\\d-\\d\\d$`)),
        ),
      );
      await queue.obliterate({ force: true });
    } finally {
      await queue.close();
    }
  });

  it('stores the findings, DMs each owner and posts the rest to the security channel with what to do', async () => {
    const result = await jobs.sweep(POSTURE_ACCOUNT);
    expect(result.findings.map((f) => `${f.kind} ${f.arn}`).sort()).toEqual(EXPECTED_FINDINGS);
    expect((await store.getFindings(POSTURE_ACCOUNT))?.findings).toHaveLength(EXPECTED_FINDINGS.length);

    const sent = posts();
    const carol = sent.filter((p) => p.channel === 'U0CAROL');
    expect(carol).toHaveLength(1);
    expect(carol[0]!.text).toBe('IAM posture: 1 new finding you own in production (111111111111)');
    expect(JSON.stringify(carol[0]!.blocks)).toContain('move the statements into a managed policy');
    expect(JSON.stringify(carol[0]!.blocks)).toContain('posture_accept_risk');
    const security = sent.filter((p) => p.channel === loaded.config.slack.channels.security);
    expect(security).toHaveLength(1);
    expect(security[0]!.text).toBe(
      `IAM posture: ${EXPECTED_FINDINGS.length - 1} new findings in production (111111111111) with no owner`,
    );
    const blocks = JSON.stringify(security[0]!.blocks);
    expect(blocks).toContain('aws-access-ghost');
    expect(blocks).toContain('is admin-equivalent');
    // admin-dave is tagged with an owner, but an admin path goes to security, not to a DM.
    expect(blocks).toContain('admin-dave');
    expect(sent.filter((p) => p.channel === 'U0DAVE')).toHaveLength(0);
    expect(sent).toHaveLength(2);
  });

  it('tells each finding once: the next day only new ones are posted', async () => {
    // Still within the day `busy` counts as used (the clock sits 500 ms before its threshold).
    clock.set(clock.now() + 100);
    const again = await jobs.sweep(POSTURE_ACCOUNT);
    expect(again.findings).toHaveLength(EXPECTED_FINDINGS.length);
    expect(posts()).toEqual([]);
  });

  it('accepting a risk needs the owner and a reason, is audited, and drops the finding until it ends', async () => {
    const messages = await Promise.all(
      (await redis.keys(`${loaded.config.redis.prefix}:posture:message:*`)).map(async (k) =>
        store.getMessage(k.split(':').pop()!),
      ),
    );
    const toCarol = messages.find((m) => m?.slackUserId === 'U0CAROL')!;
    const deps = { store, audit: ctx.audit, clock, isSecurityMember: async () => false };
    expect(
      await acceptPostureRisk(deps, {
        messageId: toCarol.id,
        slackUserId: 'U0MALLORY',
        reason: 'x',
        days: 30,
      }),
    ).toEqual({
      outcome: 'not-owner',
      owner: 'U0CAROL',
    });
    expect(
      await acceptPostureRisk(deps, {
        messageId: toCarol.id,
        slackUserId: 'U0CAROL',
        reason: '  ',
        days: 30,
      }),
    ).toEqual({
      outcome: 'no-reason',
    });
    const accepted = await acceptPostureRisk(deps, {
      messageId: toCarol.id,
      slackUserId: 'U0CAROL',
      reason: 'migrating to a group next sprint',
      days: 7,
    });
    expect(accepted.outcome).toBe('accepted');
    const audit = await ctx.store.readAudit();
    expect(audit).toContainEqual(
      expect.objectContaining({
        type: 'posture.risk-accepted',
        actor: 'U0CAROL',
        findingId: toCarol.findingIds[0],
        detail: expect.stringContaining('migrating to a group next sprint'),
      }),
    );
    const during = await jobs.sweep(POSTURE_ACCOUNT);
    expect(during.accepted).toEqual(toCarol.findingIds);
    expect(during.findings.map((f) => f.id)).not.toContain(toCarol.findingIds[0]);

    // Eight days later the acceptance has ended: the finding is back, and told again (every role
    // is unused by then too, which the security channel hears about).
    clock.set(clock.now() + 8 * DAY_MS);
    fake.clearCalls();
    const after = await jobs.sweep(POSTURE_ACCOUNT);
    expect(after.findings.map((f) => f.id)).toContain(toCarol.findingIds[0]);
    expect(posts().filter((p) => p.channel === 'U0CAROL')).toHaveLength(1);
  });

  it('the weekly digest job queues the posture digest once a week', async () => {
    const queue = new Queue(QueueName.hygiene, queueOptions(redis, loaded.config.redis.prefix));
    try {
      const { week } = (await processHygieneJob(ctx, queue, { name: 'digest', data: {} } as Job, jobs)) as {
        week: string;
      };
      await processHygieneJob(ctx, queue, { name: 'digest', data: {} } as Job, jobs);
      const queued = (await queue.getJobs(['waiting'])).filter((j) => j.name === 'posture-digest');
      expect(queued.map((j) => j.id)).toEqual([`posture-digest-${week}`]);
      await queue.obliterate({ force: true });
    } finally {
      await queue.close();
    }
    fake.clearCalls();
  });

  it('the weekly digest counts findings per kind and the change since last week', async () => {
    const first = await jobs.digest();
    expect(first.change).toBeUndefined();
    expect(first.counts['wildcard-policy']).toBe(2);
    expect(first.total).toBeGreaterThan(0);
    expect(posts()[0]!.text).toMatch(
      /^IAM posture digest \d{4}-W\d\d: \d+ findings, 0 accepted risks in force$/,
    );

    clock.set(clock.now() + 7 * DAY_MS);
    const findings = (await store.getFindings(POSTURE_ACCOUNT))!;
    await store.saveFindings({
      ...findings,
      findings: findings.findings.filter((f) => f.kind !== 'wildcard-policy'),
    });
    fake.clearCalls();
    const second = await jobs.digest();
    expect(second.change?.['wildcard-policy']).toBe(-2);
    expect(posts()[0]!.text).toContain(`(-2 since ${first.week})`);
  });

  it('between sweeps, the drift check on the reconcile schedule tells new drift of /aws-access/ roles once', async () => {
    const queue = new Queue(QueueName.hygiene, queueOptions(redis, loaded.config.redis.prefix));
    const run = () => processHygieneJob(ctx, queue, { name: 'posture-drift', data: {} } as Job, jobs);
    try {
      // The daily sweep told the ghost and the tampered role already.
      expect(await run()).toEqual({ told: 0 });
      expect(posts()).toEqual([]);

      const iam = await accounts.iam(POSTURE_ACCOUNT);
      await iam.send(
        new AttachRolePolicyCommand({
          RoleName: 'aws-access-req-ok',
          PolicyArn: `arn:aws:iam::${POSTURE_ACCOUNT}:policy/S3Everything`,
        }),
      );
      expect(await run()).toEqual({ told: 1 });
      expect(posts()).toHaveLength(1);
      expect(posts()[0]!.channel).toBe(loaded.config.slack.channels.security);
      expect(JSON.stringify(posts()[0]!.blocks)).toContain(
        `role aws-access-req-ok (/aws-access/): managed policies added: arn:aws:iam::${POSTURE_ACCOUNT}:policy/S3Everything`,
      );
      fake.clearCalls();
      expect(await run()).toEqual({ told: 0 });
      expect(posts()).toEqual([]);
    } finally {
      await queue.close();
    }
  });
});
