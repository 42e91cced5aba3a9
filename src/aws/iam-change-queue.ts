/**
 * The IAM change queue (SQS) the EventBridge rule of `deploy/aws/iam-change-alerts-queue.yaml`
 * fills: long polling, ten messages at a time, delete after handling. A body that is not an
 * EventBridge-wrapped CloudTrail IAM event is handed on as malformed (with why, never the body),
 * for the consumer to log and drop.
 */
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import type { IamChangeEvent } from '../domain/iam-changes/describe-change.js';
import type { ChangeMessage, ChangeQueue } from '../domain/iam-changes/ports.js';
import { clientConfig, type AwsSettings } from './aws-clients.js';

const cloudTrailIamEvent = z.object({
  id: z.string().min(1),
  'detail-type': z.literal('AWS API Call via CloudTrail'),
  source: z.literal('aws.iam'),
  // Always there from EventBridge (moto leaves it out); the detail's recipientAccountId is read first.
  account: z
    .string()
    .regex(/^\d{12}$/)
    .optional(),
  time: z.string(),
  detail: z.object({
    eventSource: z.literal('iam.amazonaws.com'),
    eventName: z.string().min(1),
    eventTime: z.string().optional(),
    recipientAccountId: z
      .string()
      .regex(/^\d{12}$/)
      .optional(),
    sourceIPAddress: z.string().optional(),
    errorCode: z.string().optional(),
    requestParameters: z.record(z.string(), z.unknown()).nullish(),
    userIdentity: z
      .object({
        type: z.string().optional(),
        arn: z.string().optional(),
        invokedBy: z.string().optional(),
        sessionContext: z
          .object({ sessionIssuer: z.object({ arn: z.string().optional() }).optional() })
          .optional(),
      })
      .optional(),
  }),
});

/** The domain's event from one SQS message body, or why it is not one. */
export function parseChangeMessage(body: string | undefined): { event?: IamChangeEvent; problem?: string } {
  let json: unknown;
  try {
    json = JSON.parse(body ?? '');
  } catch {
    return { problem: 'body is not JSON' };
  }
  const parsed = cloudTrailIamEvent.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { problem: `not a CloudTrail IAM event: ${issue?.path.join('.') || '(root)'}: ${issue?.message}` };
  }
  const e = parsed.data;
  const d = e.detail;
  const accountId = d.recipientAccountId ?? e.account;
  if (!accountId) return { problem: 'not a CloudTrail IAM event: no account' };
  return {
    event: {
      id: e.id,
      accountId,
      at: d.eventTime ?? e.time,
      eventName: d.eventName,
      actor: {
        type: d.userIdentity?.type ?? 'Unknown',
        arn: d.userIdentity?.arn,
        issuerArn: d.userIdentity?.sessionContext?.sessionIssuer?.arn,
        invokedBy: d.userIdentity?.invokedBy,
      },
      requestParameters: d.requestParameters ?? {},
      errorCode: d.errorCode,
      sourceIp: d.sourceIPAddress,
    },
  };
}

/** The region of an SQS queue URL (`https://sqs.<region>.amazonaws.com/…`), if it says. */
export function queueRegion(queueUrl: string): string | undefined {
  return /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com\//.exec(queueUrl)?.[1];
}

export interface SqsChangeQueueOptions {
  queueUrl: string;
  settings: AwsSettings;
  /** Long-poll wait (1–20 s); 20 in production. */
  waitTimeSeconds?: number;
  /** Aborts a pending long poll at shutdown. */
  signal?: AbortSignal;
}

export function sqsChangeQueue(options: SqsChangeQueueOptions): ChangeQueue {
  const sqs = new SQSClient(clientConfig(options.settings, { region: queueRegion(options.queueUrl) }));
  return {
    async receive(waitSeconds?: number): Promise<ChangeMessage[]> {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: options.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: Math.min(waitSeconds ?? 20, options.waitTimeSeconds ?? 20),
        }),
        { abortSignal: options.signal },
      );
      return (out.Messages ?? [])
        .filter((m) => m.ReceiptHandle)
        .map((m) => ({
          receiptHandle: m.ReceiptHandle!,
          messageId: m.MessageId ?? '',
          ...parseChangeMessage(m.Body),
        }));
    },
    async delete(receiptHandle: string): Promise<void> {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: options.queueUrl, ReceiptHandle: receiptHandle }));
    },
  };
}
