import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { cloudTrailEvent } from '../support/cloudtrail-events.js';
import { awsEndpointUrl, testConfig } from '../support/services.js';

const sqs = new SQSClient({
  region: 'us-east-1',
  endpoint: awsEndpointUrl(),
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});

describe('IAM change alerts in the running worker role', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('posts a change to the security channel within its group window, and stops cleanly', async () => {
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: `e2e-iam-changes-${Date.now()}` }),
    );
    const loaded = testConfig((c) => {
      c.posture.alerts.queueUrl = QueueUrl;
      c.posture.alerts.groupWindow = 1;
    });
    app = await startTestApp({ role: 'worker', loaded });
    await sqs.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: JSON.stringify(
          cloudTrailEvent({ eventName: 'CreateLoginProfile', requestParameters: { userName: 'svc-backup' } }),
        ),
      }),
    );
    await expect
      .poll(() => app!.fake.callsTo('chat.postMessage').map((c) => c.args.channel), { timeout: 15_000 })
      .toContain('C0SECURITY');
    const post = app.fake.callsTo('chat.postMessage').find((c) => c.args.channel === 'C0SECURITY')!;
    expect(post.args.text).toBe(
      'IAM change in production (111111111111): alice (via role Admin) gave user svc-backup a console password from 203.0.113.5',
    );
  }, 30_000);
});
