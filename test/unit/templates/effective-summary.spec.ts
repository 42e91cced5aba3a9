import { beforeAll, describe, expect, it } from 'vitest';
import { changeText, leavesNothing, removalText } from '../../../src/domain/effective-access.js';
import type { AccessLevel, AccessLevelSummary } from '../../../src/domain/ports.js';
import { evaluateWithScps, type ScpLevel } from '../../../src/templates/effective-summary.js';
import { loadIamActionCatalog, type IamActionCatalog } from '../../../src/templates/iam-action-catalog.js';
import {
  loadTemplates,
  summaryInputOf,
  type BoundaryTemplateCatalog,
} from '../../../src/templates/load-templates.js';

let catalog: IamActionCatalog;
let templates: BoundaryTemplateCatalog;
beforeAll(async () => {
  catalog = await loadIamActionCatalog();
  templates = await loadTemplates('templates');
});

const ACCOUNT = '111122223333';
const doc = (...Statement: unknown[]) => ({ Version: '2012-10-17', Statement });
const FULL = {
  id: 'p-FullAWSAccess',
  name: 'FullAWSAccess',
  document: doc({ Effect: 'Allow', Action: '*', Resource: '*' }),
};
const level = (targetId: string, label: string, ...policies: ScpLevel['policies']): ScpLevel => ({
  targetId,
  label,
  policies,
});
/** root → OU Workloads → account, FullAWSAccess everywhere plus `extra` on the OU. */
const path = (ouExtra: ScpLevel['policies'] = [], rootExtra: ScpLevel['policies'] = []) => [
  level('r-abcd', 'root', FULL, ...rootExtra),
  level('ou-abcd-11111111', 'OU Workloads', FULL, ...ouExtra),
  level(ACCOUNT, 'account prod', FULL),
];

function total(summary: AccessLevelSummary | undefined, l: AccessLevel): number {
  return (summary?.services ?? []).reduce((n, s) => n + s.counts[l], 0);
}
function service(summary: AccessLevelSummary | undefined, name: string) {
  return summary?.services.find((s) => s.service === name)?.counts;
}

const s3AndEc2 = {
  boundary: doc({
    Effect: 'Allow',
    Action: ['s3:*', 'ec2:Describe*', 'ec2:RunInstances'],
    Resource: '*',
  }) as never,
  inlinePolicy: doc({
    Effect: 'Allow',
    Action: ['s3:*', 'ec2:Describe*', 'ec2:RunInstances'],
    Resource: '*',
  }) as never,
  managedPolicyArns: [],
};

describe('what SCPs leave of a template', () => {
  it('FullAWSAccess at every level leaves the whole template', async () => {
    const result = await evaluateWithScps(catalog, s3AndEc2, path(), ACCOUNT);
    expect(result.allowed).toBe(result.asked);
    expect(result.deniedBy).toBeUndefined();
  });

  it('a Deny on an OU removes the denied actions and is named with what it removes', async () => {
    const denyWrites = {
      id: 'p-denywrites',
      name: 'deny-prod-writes',
      document: doc({ Effect: 'Deny', Action: ['s3:Put*', 'ec2:RunInstances'], Resource: '*' }),
    };
    const result = await evaluateWithScps(catalog, s3AndEc2, path([denyWrites]), ACCOUNT);
    expect(result.allowed).toBeLessThan(result.asked);
    expect(result.allowed).toBeGreaterThan(0);
    expect(service(result.summary, 's3')!.Read).toBeGreaterThan(0);
    const s3Puts = [...catalog.byService.get('s3')!].filter((k) => k.startsWith('s3:put')).length;
    expect(result.deniedBy).toMatchObject({
      scpName: 'deny-prod-writes',
      kind: 'deny',
      level: 'OU Workloads',
    });
    expect(result.deniedBy!.removed).toBe(s3Puts + 1);
    expect(result.deniedBy!.services).toEqual(['s3', 'ec2']);
    expect(removalText(result.deniedBy!)).toMatch(/^SCP deny-prod-writes \(OU Workloads\) removes /);
    // Approvers see what changed per service against the template summary.
    expect(result.changes!.map((c) => c.service)).toEqual(['s3', 'ec2']);
    expect(changeText(result.changes![1]!)).toBe('ec2: Write 1 → 0');
  });

  it('a level whose allow list misses an action removes it, and names that level', async () => {
    const allowS3Only = {
      id: 'p-s3only',
      name: 'allow-s3-only',
      document: doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' }),
    };
    // The OU holds only the allow list (FullAWSAccess detached): ec2 is allowed nowhere there.
    const levels = path();
    levels[1] = level('ou-abcd-11111111', 'OU Workloads', allowS3Only);
    const result = await evaluateWithScps(catalog, s3AndEc2, levels, ACCOUNT);
    expect(service(result.summary, 'ec2')).toBeUndefined();
    expect(service(result.summary, 's3')).toBeDefined();
    expect(changeText(result.changes![0]!)).toMatch(/^ec2: all \d+ actions removed$/);
    expect(result.deniedBy).toMatchObject({
      kind: 'allow-list',
      level: 'OU Workloads',
      scpName: 'allow-s3-only',
    });
    expect(result.deniedBy!.services).toEqual(['ec2']);
    expect(result.deniedBy!.removesAllOfLevel).toBe(true);
  });

  it('a Deny "*" at the root leaves nothing', async () => {
    const denyAll = {
      id: 'p-denyall',
      name: 'deny-all-sandbox',
      document: doc({ Effect: 'Deny', Action: '*', Resource: '*' }),
    };
    const result = await evaluateWithScps(catalog, s3AndEc2, path([], [denyAll]), ACCOUNT);
    expect(result.allowed).toBe(0);
    expect(leavesNothing(result)).toBe(true);
    expect(result.deniedBy).toMatchObject({
      scpName: 'deny-all-sandbox',
      level: 'root',
      removed: result.asked,
    });
  });

  it('a NotAction Deny removes everything but the actions it names', async () => {
    const onlyReads = {
      id: 'p-onlys3',
      name: 'only-s3',
      document: doc({ Effect: 'Deny', NotAction: ['s3:*'], Resource: '*' }),
    };
    const result = await evaluateWithScps(catalog, s3AndEc2, path([onlyReads]), ACCOUNT);
    expect(service(result.summary, 'ec2')).toBeUndefined();
    expect(total(result.summary, 'Write')).toBe(service(result.summary, 's3')!.Write);
    expect(result.deniedBy).toMatchObject({ scpName: 'only-s3', services: ['ec2'] });
  });

  it('a Deny under a condition (the usual region restriction) is not counted, and says so', async () => {
    const regions = {
      id: 'p-regions',
      name: 'eu-only',
      document: doc({
        Effect: 'Deny',
        NotAction: ['iam:*', 'sts:*'],
        Resource: '*',
        Condition: { StringNotEquals: { 'aws:RequestedRegion': ['eu-west-1'] } },
      }),
    };
    const result = await evaluateWithScps(catalog, s3AndEc2, path([regions]), ACCOUNT);
    expect(result.allowed).toBe(result.asked);
    expect(result.notes?.[0]).toContain('eu-only');
    expect(result.notes!.join('\n')).toContain('may remove more');
  });

  it('evaluates the shipped templates quickly, even the Action "*" one', async () => {
    const denyWrites = {
      id: 'p-denywrites',
      name: 'deny-prod-writes',
      document: doc({ Effect: 'Deny', Action: ['s3:Put*', 'ec2:Run*', 'ec2:Terminate*'], Resource: '*' }),
    };
    for (const template of templates.templates) {
      const started = performance.now();
      const result = await evaluateWithScps(catalog, summaryInputOf(template), path([denyWrites]), ACCOUNT);
      const ms = performance.now() - started;
      // Measured at well under a second each on a 2-core machine (docs/aws-grants.md).
      expect(ms, template.name).toBeLessThan(3000);
      expect(result.allowed, template.name).toBeLessThanOrEqual(result.asked);
    }
  });
});
