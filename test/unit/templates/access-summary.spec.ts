import { beforeAll, describe, expect, it } from 'vitest';
import type { AccessLevel, AccessLevelSummary } from '../../../src/domain/ports.js';
import { summarizeAccess } from '../../../src/templates/access-summary.js';
import { loadIamActionCatalog, type IamActionCatalog } from '../../../src/templates/iam-action-catalog.js';
import { loadTemplates, type BoundaryTemplateCatalog } from '../../../src/templates/load-templates.js';

let catalog: IamActionCatalog;
let templates: BoundaryTemplateCatalog;
beforeAll(async () => {
  catalog = await loadIamActionCatalog();
  templates = await loadTemplates('templates');
});

function total(summary: AccessLevelSummary, level: AccessLevel): number {
  return summary.services.reduce((n, s) => n + s.counts[level], 0);
}

const doc = (...Statement: unknown[]) => ({ Version: '2012-10-17' as const, Statement: Statement as never });

describe('access-level summaries', () => {
  it('counts what both the boundary and the granted policies allow, per service and level, expanding wildcards', () => {
    const summary = summarizeAccess(catalog, {
      boundary: doc({ Effect: 'Allow', Action: ['s3:Get*', 's3:List*', 'ec2:*'], Resource: '*' }),
      inlinePolicy: doc({
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:ListBucket', 's3:PutObject'],
        Resource: '*',
      }),
      managedPolicyArns: [],
    });
    // s3:PutObject is outside the boundary; ec2 is not granted.
    expect(summary.services).toEqual([
      { service: 's3', counts: { List: 1, Read: 1, Write: 0, 'Permissions management': 0, Tagging: 0 } },
    ]);
    expect(summary.flags).toEqual([]);
  });

  it('removes unconditional denies but keeps actions denied only under a condition', () => {
    const summary = summarizeAccess(catalog, {
      boundary: doc(
        { Effect: 'Allow', Action: 's3:GetObject*', Resource: '*' },
        { Effect: 'Deny', Action: 's3:GetObject', Resource: '*' },
        {
          Effect: 'Deny',
          Action: 's3:GetObjectAcl',
          Resource: '*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ),
      inlinePolicy: doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' }),
      managedPolicyArns: [],
    });
    const s3 = summary.services.find((s) => s.service === 's3')!;
    const allowed = [...catalog.byService.get('s3')!].filter((k) => /^s3:getobject/.test(k));
    expect(
      s3.counts.Read +
        s3.counts.List +
        s3.counts.Write +
        s3.counts['Permissions management'] +
        s3.counts.Tagging,
    ).toBe(allowed.length - 1);
  });

  it('flags Permissions management and iam:PassRole', () => {
    const summary = summarizeAccess(catalog, {
      boundary: doc({ Effect: 'Allow', Action: 'iam:*', Resource: '*' }),
      inlinePolicy: doc({ Effect: 'Allow', Action: ['iam:PassRole', 'iam:AttachRolePolicy'], Resource: '*' }),
      managedPolicyArns: [],
    });
    expect(summary.services[0]!.counts).toMatchObject({ Write: 1, 'Permissions management': 1 });
    expect(summary.flags).toEqual([
      'Permissions management: 1 actions on 1 services (iam 1)',
      'iam:PassRole',
    ]);
  });

  it('says so when a managed policy cannot be known offline', () => {
    const summary = summarizeAccess(catalog, {
      boundary: doc({ Effect: 'Allow', Action: 'sqs:List*', Resource: '*' }),
      managedPolicyArns: ['arn:aws:iam::123456789012:policy/Custom'],
    });
    expect(summary.services.map((s) => s.service)).toEqual(['sqs']);
    expect(summary.flags[0]).toContain(
      'arn:aws:iam::123456789012:policy/Custom is counted as anything the boundary allows',
    );
  });

  it('readonly allows only List and Read', () => {
    const s = templates.get('readonly')!.summary;
    expect(total(s, 'Write') + total(s, 'Permissions management') + total(s, 'Tagging')).toBe(0);
    expect(total(s, 'Read')).toBeGreaterThan(100);
    expect(s.services.map((x) => x.service)).toEqual(expect.arrayContaining(['ec2', 'iam', 's3']));
    expect(s.flags).toEqual([]);
  });

  it('developer allows no IAM, Organizations or Account actions', () => {
    const s = templates.get('developer')!.summary;
    const services = s.services.map((x) => x.service);
    expect(services).not.toContain('iam');
    expect(services).not.toContain('organizations');
    expect(services).not.toContain('account');
    expect(total(s, 'Write')).toBeGreaterThan(1000);
    expect(s.flags).not.toContain('iam:PassRole');
  });

  it('admin-breakglass is flagged for Permissions management on iam and iam:PassRole', () => {
    const s = templates.get('admin-breakglass')!.summary;
    expect(s.flags).toContain('iam:PassRole');
    expect(s.flags[0]).toMatch(/^Permissions management: \d+ actions on \d+ services \(.*iam \d+/);
    const cloudtrail = s.services.find((x) => x.service === 'cloudtrail')!;
    const all = catalog.byService.get('cloudtrail')!.length;
    const counted = Object.values(cloudtrail.counts).reduce((a, b) => a + b, 0);
    expect(counted).toBe(all - 4); // StopLogging, DeleteTrail, UpdateTrail, PutEventSelectors denied
  });

  it('s3-data-reader reads S3 and decrypts, nothing else', () => {
    const s = templates.get('s3-data-reader')!.summary;
    expect(s.services.map((x) => x.service)).toEqual(['kms', 's3']);
    expect(s.services[1]!.counts).toMatchObject({ Write: 0, 'Permissions management': 0 });
  });
});
