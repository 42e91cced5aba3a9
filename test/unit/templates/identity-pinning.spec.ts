/**
 * Finding 2: when the requester's principal is a role many people share (an Identity Center
 * permission-set role), the grant's trust must admit only the requester's session. Proven with
 * the @cloud-copilot/iam-simulate evaluator: the pinned session may assume the grant, another
 * session of the same role may not.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { trustPolicy, UnpinnablePrincipalError } from '../../../src/templates/grant-policies.js';

const IDENTITY_ACCOUNT = '123456789012';
const MEMBER = '111111111111';
const GRANT_ROLE = `arn:aws:iam::${MEMBER}:role/aws-access/aws-access-r-1`;
const BROKER = `arn:aws:iam::${MEMBER}:role/aws-access-broker`;
const SSO_ROLE_NAME = 'AWSReservedSSO_Developer_0123456789abcdef';
const SSO_ROLE = `arn:aws:iam::${IDENTITY_ACCOUNT}:role/aws-reserved/sso.amazonaws.com/${SSO_ROLE_NAME}`;
const ROLE_ID = 'AROAEXAMPLEROLEID1234';
const session = (name: string) => `arn:aws:sts::${IDENTITY_ACCOUNT}:assumed-role/${SSO_ROLE_NAME}/${name}`;

/** Whether `sessionName`'s session of the SSO role may assume the grant role under `trust`. */
async function mayAssume(trust: unknown, sessionName: string): Promise<string> {
  const result = await runSimulation(
    {
      request: {
        principal: session(sessionName),
        action: 'sts:AssumeRole',
        resource: { resource: GRANT_ROLE, accountId: MEMBER },
        contextVariables: {
          'aws:userid': `${ROLE_ID}:${sessionName}`,
          'aws:PrincipalArn': SSO_ROLE,
          'aws:MultiFactorAuthPresent': 'true',
        },
      },
      identityPolicies: [
        {
          name: 'permission-set',
          policy: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }],
          },
        },
      ],
      resourcePolicy: trust,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
  return result.overallResult;
}

describe('finding 2: identity pinning in trust policies', () => {
  it('finding 2: a role principal is pinned to the requester session with aws:userid', () => {
    const trust = trustPolicy({
      principalArn: SSO_ROLE,
      principalSessionName: 'alice@example.com',
      brokerRoleArn: BROKER,
      requiresMfa: true,
    });
    expect(trust.Statement[0]).toEqual({
      Sid: 'Requester',
      Effect: 'Allow',
      Principal: { AWS: SSO_ROLE },
      Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
      Condition: {
        StringLike: { 'aws:userid': '*:alice@example.com' },
        Bool: { 'aws:MultiFactorAuthPresent': 'true' },
      },
    });
  });

  it('finding 2: an assumed-role session ARN is used as the principal as is', () => {
    const trust = trustPolicy({
      principalArn: session('alice@example.com'),
      brokerRoleArn: BROKER,
      requiresMfa: false,
    });
    expect(trust.Statement[0]!.Principal).toEqual({ AWS: session('alice@example.com') });
    expect(trust.Statement[0]!.Condition).toBeUndefined();
  });

  it('finding 2: a role principal without a session name is refused; an IAM user needs none', () => {
    expect(() => trustPolicy({ principalArn: SSO_ROLE, brokerRoleArn: BROKER, requiresMfa: true })).toThrow(
      UnpinnablePrincipalError,
    );
    expect(() =>
      trustPolicy({
        principalArn: SSO_ROLE,
        principalSessionName: 'a/b*',
        brokerRoleArn: BROKER,
        requiresMfa: true,
      }),
    ).toThrow(/not a valid STS role session name/);
    const user = `arn:aws:iam::${IDENTITY_ACCOUNT}:user/alice`;
    expect(
      trustPolicy({ principalArn: user, brokerRoleArn: BROKER, requiresMfa: false }).Statement[0]!.Principal,
    ).toEqual({ AWS: user });
  });

  it('finding 2: the simulator lets the pinned session assume the grant and refuses another session of the shared role', async () => {
    const pinned = trustPolicy({
      principalArn: SSO_ROLE,
      principalSessionName: 'alice@example.com',
      brokerRoleArn: BROKER,
      requiresMfa: true,
    });
    expect(await mayAssume(pinned, 'alice@example.com')).toBe('Allowed');
    expect(await mayAssume(pinned, 'mallory@example.com')).not.toBe('Allowed');
    expect(await mayAssume(pinned, 'xalice@example.com')).not.toBe('Allowed');

    const bySession = trustPolicy({
      principalArn: session('alice@example.com'),
      brokerRoleArn: BROKER,
      requiresMfa: true,
    });
    expect(await mayAssume(bySession, 'alice@example.com')).toBe('Allowed');
    expect(await mayAssume(bySession, 'mallory@example.com')).not.toBe('Allowed');
  });
});
