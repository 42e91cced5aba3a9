import type { IAMClient } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { readAuthorizationDetails } from '../../../src/aws/posture-reader.js';
import { ROLE_PATH } from '../../../src/templates/grant-policies.js';
import { POSTURE_ROLE_PATH } from '../../../src/domain/posture/paths.js';

const enc = (doc: object) => encodeURIComponent(JSON.stringify(doc));
const ADMIN = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

/** An IAM client whose GetAccountAuthorizationDetails answers three pages, as IAM pages. */
function pagedIam() {
  const inputs: Array<{ Filter?: string[]; MaxItems?: number; Marker?: string }> = [];
  const pages: Record<string, object> = {
    first: {
      IsTruncated: true,
      Marker: 'm1',
      UserDetailList: [
        {
          UserName: 'alice',
          Arn: 'arn:aws:iam::111111111111:user/alice',
          Path: '/',
          GroupList: ['admins'],
          Tags: [{ Key: 'slack-user', Value: 'U0ALICE' }],
          UserPolicyList: [{ PolicyName: 'mine', PolicyDocument: enc(ADMIN) }],
        },
      ],
    },
    m1: {
      IsTruncated: true,
      Marker: 'm2',
      GroupDetailList: [
        {
          GroupName: 'admins',
          Arn: 'arn:aws:iam::111111111111:group/admins',
          Path: '/',
          AttachedManagedPolicies: [
            { PolicyName: 'AdministratorAccess', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' },
          ],
        },
      ],
      RoleDetailList: [
        {
          RoleName: 'r',
          Arn: 'arn:aws:iam::111111111111:role/r',
          Path: '/',
          AssumeRolePolicyDocument: enc({ Statement: [{ Effect: 'Allow', Principal: { AWS: '*' } }] }),
          RoleLastUsed: { LastUsedDate: new Date('2030-01-01T00:00:00Z') },
        },
      ],
    },
    m2: {
      IsTruncated: false,
      Policies: [
        {
          PolicyName: 'AdministratorAccess',
          Arn: 'arn:aws:iam::aws:policy/AdministratorAccess',
          Path: '/',
          AttachmentCount: 1,
          DefaultVersionId: 'v3',
          PolicyVersionList: [
            { VersionId: 'v2', IsDefaultVersion: false, Document: enc({ Statement: [] }) },
            { VersionId: 'v3', IsDefaultVersion: true, Document: enc(ADMIN) },
          ],
        },
      ],
    },
  };
  const iam = {
    send: async (command: { input: (typeof inputs)[number] }) => {
      inputs.push(command.input);
      return pages[command.input.Marker ?? 'first'];
    },
  } as unknown as IAMClient;
  return { iam, inputs };
}

describe('reading authorization details', () => {
  it('follows Marker through every page with all filters and 1,000 entities a page', async () => {
    const { iam, inputs } = pagedIam();
    const details = await readAuthorizationDetails(iam, '111111111111');
    expect(inputs.map((i) => i.Marker)).toEqual([undefined, 'm1', 'm2']);
    for (const input of inputs) {
      expect(input.Filter).toEqual(['User', 'Group', 'Role', 'LocalManagedPolicy', 'AWSManagedPolicy']);
      expect(input.MaxItems).toBe(1000);
    }
    expect(details.users.map((u) => u.name)).toEqual(['alice']);
    expect(details.groups.map((g) => g.name)).toEqual(['admins']);
    expect(details.roles.map((r) => r.name)).toEqual(['r']);
    expect(details.policies.map((p) => p.name)).toEqual(['AdministratorAccess']);
  });

  it('decodes URL-encoded documents and keeps the default version of a managed policy', async () => {
    const { iam } = pagedIam();
    const details = await readAuthorizationDetails(iam, '111111111111');
    expect(details.users[0]!.inlinePolicies[0]!.document).toEqual(ADMIN);
    expect(details.users[0]!.tags).toEqual({ 'slack-user': 'U0ALICE' });
    expect(details.roles[0]!.trustPolicy).toEqual({
      Statement: [{ Effect: 'Allow', Principal: { AWS: '*' } }],
    });
    expect(details.roles[0]!.lastUsedAt?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect(details.policies[0]).toMatchObject({ awsManaged: true, attachmentCount: 1, document: ADMIN });
  });

  it('uses the same /aws-access/ path as the grant engine', () => {
    expect(POSTURE_ROLE_PATH).toBe(ROLE_PATH);
  });
});
