/**
 * IAM CloudTrail events as EventBridge delivers them to SQS (the body of each message), for the
 * change-alert tests. Shapes follow AWS's "AWS API Call via CloudTrail" events.
 */
import { randomUUID } from 'node:crypto';

export interface CloudTrailEventInput {
  eventName: string;
  account?: string;
  requestParameters?: Record<string, unknown>;
  /** An assumed-role session `role/session`, or `user:<name>`, or `root`. */
  actor?: string;
  errorCode?: string;
  id?: string;
  time?: string;
}

export function cloudTrailEvent(input: CloudTrailEventInput): Record<string, unknown> {
  const account = input.account ?? '111111111111';
  const actor = input.actor ?? 'Admin/alice';
  let userIdentity: Record<string, unknown>;
  if (actor === 'root')
    userIdentity = { type: 'Root', arn: `arn:aws:iam::${account}:root`, accountId: account };
  else if (actor.startsWith('user:'))
    userIdentity = {
      type: 'IAMUser',
      arn: `arn:aws:iam::${account}:user/${actor.slice(5)}`,
      accountId: account,
    };
  else {
    const [role, session] = actor.split('/');
    userIdentity = {
      type: 'AssumedRole',
      principalId: `AROAEXAMPLE:${session}`,
      arn: `arn:aws:sts::${account}:assumed-role/${role}/${session}`,
      accountId: account,
      sessionContext: {
        sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${account}:role/${role}`, userName: role },
        attributes: { creationDate: '2026-11-30T09:00:00Z', mfaAuthenticated: 'true' },
      },
    };
  }
  const time = input.time ?? '2026-11-30T10:15:30Z';
  return {
    version: '0',
    id: input.id ?? randomUUID(),
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.iam',
    account,
    time,
    region: 'us-east-1',
    resources: [],
    detail: {
      eventVersion: '1.09',
      userIdentity,
      eventTime: time,
      eventSource: 'iam.amazonaws.com',
      eventName: input.eventName,
      awsRegion: 'us-east-1',
      sourceIPAddress: '203.0.113.5',
      userAgent: 'aws-cli/2.15.0',
      requestParameters: input.requestParameters ?? null,
      responseElements: null,
      ...(input.errorCode ? { errorCode: input.errorCode, errorMessage: 'denied' } : {}),
      requestID: randomUUID(),
      eventID: randomUUID(),
      readOnly: false,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: account,
      eventCategory: 'Management',
    },
  };
}
