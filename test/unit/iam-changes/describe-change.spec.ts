import { describe, expect, it } from 'vitest';
import { parseChangeMessage } from '../../../src/aws/iam-change-queue.js';
import { describeChange } from '../../../src/domain/iam-changes/describe-change.js';
import { cloudTrailEvent } from '../../support/cloudtrail-events.js';

const settings = {
  events: ['CreateUser', 'UpdateAssumeRolePolicy'],
  botRoleNames: ['aws-access-broker', 'aws-access-boundary-writer'],
};
const event = (input: Parameters<typeof cloudTrailEvent>[0]) =>
  parseChangeMessage(JSON.stringify(cloudTrailEvent(input))).event!;

describe('what an IAM change alert says and does', () => {
  it('a refused call is posted as an attempt and reconciles nothing', () => {
    const d = describeChange(
      event({
        eventName: 'DeleteRolePolicy',
        errorCode: 'AccessDenied',
        requestParameters: { roleName: 'aws-access-r1', policyName: 'expiry' },
      }),
      settings,
    );
    expect(d.reconcileAccountId).toBeUndefined();
    expect(d.alert?.text).toBe(
      'alice (via role Admin) tried: called DeleteRolePolicy on aws-access-r1 from 203.0.113.5 — refused: AccessDenied (a bot-managed /aws-access/ role or policy, changed outside the bot)',
    );
  });

  it('the boundary writer and the broker are the bot; a role merely named like the broker elsewhere is not the path', () => {
    expect(
      describeChange(
        event({
          eventName: 'CreatePolicyVersion',
          actor: 'aws-access-boundary-writer/bot',
          requestParameters: { policyArn: 'arn:aws:iam::111111111111:policy/aws-access/boundary-x' },
        }),
        settings,
      ),
    ).toEqual({});
    const created = describeChange(
      event({ eventName: 'CreateRole', requestParameters: { roleName: 'sneaky', path: '/aws-access/x/' } }),
      settings,
    );
    expect(created.reconcileAccountId).toBe('111111111111');
    expect(created.alert?.text).toContain('created role /aws-access/x/sneaky');
  });

  it('names the actor: IAM user, root, AWS service', () => {
    expect(
      describeChange(
        event({ eventName: 'CreateUser', actor: 'user:carol', requestParameters: { userName: 'x' } }),
        settings,
      ).alert?.text,
    ).toMatch(/^IAM user carol created IAM user x/);
    expect(
      describeChange(
        event({ eventName: 'CreateUser', actor: 'root', requestParameters: { userName: 'x' } }),
        settings,
      ).alert?.text,
    ).toMatch(/^the root user /);
  });

  it('refuses bodies that are not CloudTrail IAM events, saying where', () => {
    expect(parseChangeMessage('{}').problem).toMatch(/^not a CloudTrail IAM event: /);
    const s3 = { ...cloudTrailEvent({ eventName: 'PutObject' }), source: 'aws.s3' };
    expect(parseChangeMessage(JSON.stringify(s3)).problem).toMatch(/source/);
    expect(parseChangeMessage(undefined).problem).toBe('body is not JSON');
  });
});
