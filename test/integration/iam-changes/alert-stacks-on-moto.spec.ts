/**
 * The change-alert CloudFormation templates deployed on moto, and an IAM event on the central
 * bus reaching the queue through the template's rule, read by the bot's queue adapter. moto does
 * not forward between accounts' buses, so the member side is checked for its pattern and target.
 */
import { readFileSync } from 'node:fs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqsChangeQueue } from '../../../src/aws/iam-change-queue.js';
import { cloudTrailEvent } from '../../support/cloudtrail-events.js';
import { awsEndpointUrl, resetMoto } from '../../support/services.js';
import { cloudFormation, deployStack, type Credentials } from '../aws/cloudformation-on-moto.js';

const REGION = 'us-east-1';
const BOT_ACCOUNT = '123456789012';
const MEMBER = '111111111111';
const template = (name: string) => readFileSync(`deploy/aws/${name}`, 'utf8');

/**
 * One EventBridge JSON call to moto. The project does not depend on @aws-sdk/client-eventbridge
 * (the bot never calls EventBridge), and moto routes by the access key in the Authorization
 * header without checking the signature, so the header below only names the caller.
 */
async function events(
  action: string,
  body: object,
  credentials?: Credentials,
): Promise<Record<string, unknown>> {
  const key = credentials?.accessKeyId ?? 'test';
  const res = await fetch(awsEndpointUrl(), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSEvents.${action}`,
      authorization: `AWS4-HMAC-SHA256 Credential=${key}/20261130/${REGION}/events/aws4_request, SignedHeaders=host, Signature=0`,
      ...(credentials?.sessionToken ? { 'x-amz-security-token': credentials.sessionToken } : {}),
    },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${action}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

async function credentialsIn(account: string): Promise<Credentials> {
  const sts = new STSClient({ region: REGION, endpoint: awsEndpointUrl() });
  const { Credentials: c } = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${account}:role/AWSCloudFormationStackSetExecutionRole`,
      RoleSessionName: 'stack-test',
    }),
  );
  return {
    accessKeyId: c!.AccessKeyId!,
    secretAccessKey: c!.SecretAccessKey!,
    sessionToken: c!.SessionToken,
  };
}

describe('deploy/aws/iam-change-alerts-*.yaml on moto', () => {
  let queueOutputs: Record<string, string>;
  let member: Credentials;

  beforeAll(async () => {
    await resetMoto();
    queueOutputs = await deployStack(cloudFormation(awsEndpointUrl(), REGION), {
      StackName: 'aws-access-iam-changes',
      TemplateBody: template('iam-change-alerts-queue.yaml'),
      Parameters: {
        SourceAccountIds: MEMBER,
        BotPrincipalArn: `arn:aws:iam::${BOT_ACCOUNT}:role/aws-access-bot`,
      },
    });
    member = await credentialsIn(MEMBER);
    await deployStack(cloudFormation(awsEndpointUrl(), REGION, member), {
      StackName: 'aws-access-iam-change-forwarder',
      TemplateBody: template('iam-change-alerts-forwarder.yaml'),
      Parameters: { CentralEventBusArn: queueOutputs.EventBusArn! },
    });
  }, 60_000);
  afterAll(resetMoto);

  it('outputs the queue URL for posture.alerts.queueUrl and the bus for the forwarders', () => {
    expect(queueOutputs.QueueUrl).toMatch(/aws-access-iam-changes$/);
    expect(queueOutputs.EventBusArn).toBe(
      `arn:aws:events:${REGION}:${BOT_ACCOUNT}:event-bus/aws-access-iam-changes`,
    );
  });

  it("each member account's rule sends IAM write events to the central bus", async () => {
    const { Rules } = (await events('ListRules', {}, member)) as {
      Rules: Array<{ Name: string; EventPattern?: string }>;
    };
    const rule = Rules.find((r) => r.EventPattern?.includes('iam.amazonaws.com'))!;
    expect(JSON.parse(rule.EventPattern!)).toEqual({
      source: ['aws.iam'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: { eventSource: ['iam.amazonaws.com'], readOnly: [false] },
    });
    const { Targets } = (await events('ListTargetsByRule', { Rule: rule.Name }, member)) as {
      Targets: Array<{ Arn: string; RoleArn?: string }>;
    };
    expect(Targets[0]?.Arn).toBe(queueOutputs.EventBusArn);
    expect(Targets[0]?.RoleArn).toMatch(/:role\/aws-access-iam-change-forwarder$/);
  });

  it('an IAM event on the central bus lands on the queue, where the bot reads it', async () => {
    const e = cloudTrailEvent({
      eventName: 'CreateUser',
      account: MEMBER,
      requestParameters: { userName: 'via-bus' },
    });
    const put = await events('PutEvents', {
      Entries: [
        {
          EventBusName: 'aws-access-iam-changes',
          Source: 'aws.iam',
          DetailType: 'AWS API Call via CloudTrail',
          Detail: JSON.stringify(e.detail),
        },
      ],
    });
    expect(put.FailedEntryCount).toBe(0);
    const queue = sqsChangeQueue({
      queueUrl: queueOutputs.QueueUrl!,
      settings: { region: REGION, endpoint: awsEndpointUrl(), maxAttempts: 2 },
      waitTimeSeconds: 1,
    });
    const [message] = await queue.receive();
    expect(message?.problem).toBeUndefined();
    expect(message?.event).toMatchObject({
      eventName: 'CreateUser',
      requestParameters: { userName: 'via-bus' },
    });
    await queue.delete(message!.receiptHandle);
  });
});
