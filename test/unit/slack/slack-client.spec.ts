import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetryLaterError } from '../../../src/domain/retry-later.js';
import {
  createSlackClient,
  isRateLimited,
  retryLaterWhenRateLimited,
  slackClientOptions,
} from '../../../src/slack/slack-client.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';

describe('the Slack client factory', () => {
  let fake: FakeSlack;
  beforeAll(async () => {
    fake = await startFakeSlack();
  });
  afterAll(async () => {
    await fake.stop();
  });

  it('a jobs client gives up on a 429 at once and says when to come back', async () => {
    const client = createSlackClient({ slackBotToken: 'xoxb-test', slackApiUrl: fake.apiUrl }, 'jobs');
    fake.failNext('chat.postMessage', { status: 429, retryAfter: 7 });
    const started = performance.now();
    const error = await retryLaterWhenRateLimited(() =>
      client.chat.postMessage({ channel: 'C0AUDIT', text: 'x' }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryLaterError);
    expect((error as RetryLaterError).retryAfterSeconds).toBe(7);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(fake.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('a request-path client waits out a 429 and the post goes through', async () => {
    const client = createSlackClient({ slackBotToken: 'xoxb-test', slackApiUrl: fake.apiUrl }, 'requests');
    fake.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const res = await client.chat.postMessage({ channel: 'C0APPROVALS', text: 'y' });
    expect(res.ok).toBe(true);
    expect(fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0APPROVALS')).toHaveLength(2);
  });

  it('both uses talk to SLACK_API_URL and get a fresh options object (Bolt writes into it)', () => {
    const env = { slackApiUrl: 'http://127.0.0.1:1/api/' };
    const a = slackClientOptions(env, 'requests');
    expect(a.slackApiUrl).toBe(env.slackApiUrl);
    expect(slackClientOptions(env, 'jobs').slackApiUrl).toBe(env.slackApiUrl);
    expect(slackClientOptions(env, 'requests')).not.toBe(a);
    expect(slackClientOptions({}, 'jobs')).not.toHaveProperty('slackApiUrl');
  });

  it('refuses to build a client without a bot token', () => {
    expect(() => createSlackClient({}, 'jobs')).toThrow(/SLACK_BOT_TOKEN/);
  });

  it('other errors pass through unchanged', async () => {
    const boom = new Error('channel_not_found');
    await expect(retryLaterWhenRateLimited(() => Promise.reject(boom))).rejects.toBe(boom);
    expect(isRateLimited(boom)).toBe(false);
    expect(isRateLimited(undefined)).toBe(false);
  });
});
