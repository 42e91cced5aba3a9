/**
 * The intake job of a one-line `/aws-access` request: the web process acks and queues it, the
 * worker checks and creates the request and answers the response_url. Real Redis and BullMQ,
 * the real Bolt receiver, the fake Slack Web API.
 */
import type { Job } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock.js';
import { intakeIds, processIntakeJob, type IntakeJobData } from '../../../src/jobs/intake-worker.js';
import { QueueName } from '../../../src/jobs/queues.js';
import { createLogger } from '../../../src/logger.js';
import { SlackIntakeReplies } from '../../../src/slack/intake-replies.js';
import { RedisRequestStore } from '../../../src/store/request-store.js';
import { startTestApp, type TestApp, type TestAppOptions } from '../../support/app-harness.js';
import { approverMessage, dmsTo, REQUESTER, seedPeople, waitUntil } from '../../support/slack-flow.js';
import { slashCommandBody, TEST_TEAM } from '../../support/slack-request.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

async function start(options: TestAppOptions = {}): Promise<TestApp> {
  app = await startTestApp(options);
  seedPeople(app.fake);
  return app;
}

const logger = createLogger({ level: 'silent' });

function requestCommand(a: TestApp, triggerId: string, answerTo = `cmd-${triggerId}`) {
  return a.post(
    slashCommandBody({
      text: 'sbx readonly 1h checking alarms',
      userId: REQUESTER,
      triggerId,
      responseUrl: a.fake.responseUrl(answerTo),
    }),
  );
}

function storedRequestsOf(a: TestApp, userId: string) {
  return new RedisRequestStore(a.service.redis, a.loaded.config.redis.prefix, systemClock).listByRequester(
    userId,
  );
}

function answers(a: TestApp): string[] {
  return a.fake.callsTo('response_url').map((c) => String(c.args.text));
}

/** A web process with no worker: the command's job stays queued for the test to run by hand. */
async function queuedIntake(triggerId: string): Promise<{ a: TestApp; job: Job<IntakeJobData> }> {
  const a = await start({ role: 'web', service: { intakeInWebRole: false } });
  const res = await requestCommand(a, triggerId);
  expect(res.status).toBe(200);
  expect(res.text).toContain('Checking your request');
  const id = intakeIds({
    teamId: TEST_TEAM.id,
    triggerId,
    draft: { requesterId: REQUESTER, account: '', template: '', durationSeconds: 0, reason: '' },
  }).jobId;
  const job = await a.service.queues.get(QueueName.intake).getJob(id);
  expect(job?.data.command.draft).toMatchObject({ account: 'sbx', template: 'readonly' });
  return { a, job: job as Job<IntakeJobData> };
}

describe('intake: a one-line request after its ack', () => {
  it('a web process without a worker acks and queues the request but creates nothing', async () => {
    const { a } = await queuedIntake('1.1.web-only');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await storedRequestsOf(a, REQUESTER)).toHaveLength(0);
    expect(a.fake.callsTo('response_url')).toHaveLength(0);
    expect(await a.service.queues.get(QueueName.intake).getJobCounts('wait')).toMatchObject({ wait: 1 });
  });

  it('the same command sent twice is one job', async () => {
    const { a } = await queuedIntake('1.1.twice');
    // Another body (the replay guard refuses an identical one), the same command (trigger_id).
    expect((await requestCommand(a, '1.1.twice', 'cmd-again')).status).toBe(200);
    expect(await a.service.queues.get(QueueName.intake).getJobCounts('wait')).toMatchObject({ wait: 1 });
  });

  it('the same intake job processed twice creates one request and one approver message', async () => {
    const { a, job } = await queuedIntake('1.1.rerun');
    const deps = { requests: a.service.requests, replies: new SlackIntakeReplies(), logger };
    const first = await processIntakeJob(deps, job);
    const second = await processIntakeJob(deps, job);
    expect(first).toMatchObject({ outcome: 'created' });
    expect(second).toEqual(first);
    expect((await storedRequestsOf(a, REQUESTER)).map((r) => r.id)).toEqual([first.requestId]);
    expect(a.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0APPROVALS')).toHaveLength(
      1,
    );
    expect(answers(a)).toEqual([
      expect.stringContaining(`Request \`${first.requestId}\` sent to the approvers`),
      expect.stringContaining(`Request \`${first.requestId}\` sent to the approvers`),
    ]);
  });

  it('two runs of the same job at once create one request', async () => {
    const { a, job } = await queuedIntake('1.1.concurrent');
    const deps = { requests: a.service.requests, replies: new SlackIntakeReplies(), logger };
    const runs = await Promise.all([processIntakeJob(deps, job), processIntakeJob(deps, job)]);
    expect(runs.map((r) => r.outcome)).toEqual(['created', 'created']);
    expect(await storedRequestsOf(a, REQUESTER)).toHaveLength(1);
    expect(a.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0APPROVALS')).toHaveLength(
      1,
    );
  });

  it('a run cut off after the create announces the request when the job runs again', async () => {
    const { a, job } = await queuedIntake('1.1.cut-off');
    const deps = { requests: a.service.requests, replies: new SlackIntakeReplies(), logger };
    // The approvers' message fails (the call and the client's 3 retries), as if the worker had
    // died right after creating the request.
    a.fake.failNext('chat.postMessage', { status: 500 }, 4);
    const { requestId } = intakeIds(job.data.command);
    await processIntakeJob(deps, job);
    const stored = await storedRequestsOf(a, REQUESTER);
    expect(stored.map((r) => r.id)).toEqual([requestId]);
    expect(stored[0]!.message).toBeUndefined();
    await processIntakeJob(deps, job);
    const msg = await approverMessage(a.fake);
    expect(msg.requestId).toBe(requestId);
    expect((await storedRequestsOf(a, REQUESTER))[0]!.message?.channel).toBe('C0APPROVALS');
  });

  it('users.info answering 429 then OK: the worker retries, creates the request and answers', async () => {
    const a = await start({ role: 'all', service: { scheduleReconcile: false } });
    a.fake.failNext('users.info', { status: 429, retryAfter: 1 });
    const res = await requestCommand(a, '1.1.rate-limited');
    expect(res.text).toContain('Checking your request');
    const answer = await waitUntil(
      () => answers(a).find((t) => t.includes('sent to the approvers')),
      'the answer after the retry',
      15_000,
    );
    const requests = await storedRequestsOf(a, REQUESTER);
    expect(requests).toHaveLength(1);
    expect(answer).toContain(requests[0]!.id);
    expect(a.fake.callsTo('users.info').length).toBeGreaterThanOrEqual(2);
    expect(dmsTo(a.fake, REQUESTER).map((c) => String(c.args.text))).toEqual([
      expect.stringContaining(`Your request ${requests[0]!.id}`),
    ]);
  });

  it('users.info failing with 5xx is retried with backoff', async () => {
    const a = await start({ role: 'all', service: { scheduleReconcile: false } });
    a.fake.failNext('users.info', { status: 503 }, 1);
    await requestCommand(a, '1.1.unavailable');
    await waitUntil(
      () => answers(a).find((t) => t.includes('sent to the approvers')),
      'the answer after the retry',
      15_000,
    );
    expect(await storedRequestsOf(a, REQUESTER)).toHaveLength(1);
  });

  it('after the last attempt fails the requester is told nothing was created', async () => {
    const { a, job } = await queuedIntake('1.1.gave-up');
    const deps = { requests: a.service.requests, replies: new SlackIntakeReplies(), logger };
    a.fake.failNext('users.info', { status: 503 }, 4); // the call and the client's 3 retries
    job.attemptsMade = (job.opts.attempts ?? 1) - 1;
    await expect(processIntakeJob(deps, job)).rejects.toThrow();
    expect(answers(a)).toEqual([expect.stringContaining('Something went wrong; nothing was changed')]);
    expect(await storedRequestsOf(a, REQUESTER)).toHaveLength(0);
  });

  it('a refusal is answered at once and not retried', async () => {
    const { a, job } = await queuedIntake('1.1.refused');
    job.data.command.draft.account = 'no-such-account';
    const deps = { requests: a.service.requests, replies: new SlackIntakeReplies(), logger };
    expect(await processIntakeJob(deps, job)).toEqual({ outcome: 'refused' });
    expect(answers(a)).toEqual([expect.stringContaining('Your request was not created')]);
  });
});
