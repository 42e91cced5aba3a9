import { beforeAll, describe, expect, it } from 'vitest';
import type { SummaryInput } from '../../../src/templates/access-summary.js';
import { renderBoundary } from '../../../src/templates/grant-policies.js';
import {
  expandActionPattern,
  loadIamActionCatalog,
  type IamActionCatalog,
} from '../../../src/templates/iam-action-catalog.js';
import {
  loadTemplates,
  sampleVariables,
  summaryInputOf,
  type BoundaryTemplateCatalog,
} from '../../../src/templates/load-templates.js';
import {
  findPersistencePaths,
  formatPersistenceWarning,
  PERSISTENCE_PATHS,
} from '../../../src/templates/persistence-paths.js';
import type { PolicyStatement } from '../../../src/templates/policy-document.js';

let catalog: IamActionCatalog;
let shipped: BoundaryTemplateCatalog;
beforeAll(async () => {
  catalog = await loadIamActionCatalog();
  shipped = await loadTemplates('templates');
});

const doc = (...Statement: PolicyStatement[]) => ({ Version: '2012-10-17' as const, Statement });
const allow = (Action: string | string[], extra: Partial<PolicyStatement> = {}): PolicyStatement => ({
  Effect: 'Allow',
  Action,
  Resource: '*',
  ...extra,
});

/** A template's input as the loader builds it: boundary rendered with the guard appended. */
function input(
  boundary: PolicyStatement[],
  inline?: PolicyStatement[],
  managed: string[] = [],
): SummaryInput {
  return {
    boundary: renderBoundary({ boundary: doc(...boundary) }, sampleVariables('t')),
    inlinePolicy: inline ? doc(...inline) : undefined,
    managedPolicyArns: managed,
  };
}

const actionsOf = (i: SummaryInput) => findPersistencePaths(catalog, i).map((f) => f.action);

describe('the persistence-path catalog', () => {
  it('names only actions that exist in iam-data, each once', () => {
    const unknown = PERSISTENCE_PATHS.filter((p) => !('keys' in expandActionPattern(catalog, p.action)));
    expect(unknown).toEqual([]);
    const names = PERSISTENCE_PATHS.map((p) => p.action.toLowerCase());
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('persistence-path findings', () => {
  it('a template that allows iam:CreateAccessKey is warned about, naming template and action', () => {
    const findings = findPersistencePaths(
      catalog,
      input([allow(['iam:CreateAccessKey', 'iam:GetUser'])], [allow('iam:*')]),
    );
    expect(findings).toEqual([
      { action: 'iam:CreateAccessKey', category: 'new credentials', withPassRole: false },
    ]);
    expect(formatPersistenceWarning('templates/leaky.yaml', 'leaky', findings[0]!)).toBe(
      'warning: templates/leaky.yaml: leaky: allows iam:CreateAccessKey (new credentials)',
    );
  });

  it('expands wildcards: s3:Put* allows s3:PutBucketPolicy', () => {
    expect(actionsOf(input([allow('s3:Put*')], [allow('s3:*')]))).toContain('s3:PutBucketPolicy');
  });

  it('needs both the boundary and the granted policies to allow the action', () => {
    expect(actionsOf(input([allow('ssm:SendCommand')], [allow('ssm:Describe*')]))).toEqual([]);
    expect(actionsOf(input([allow('ssm:Describe*')], [allow('ssm:SendCommand')]))).toEqual([]);
    expect(actionsOf(input([allow('ssm:*')], [allow('ssm:SendCommand')]))).toEqual(['ssm:SendCommand']);
  });

  it('an unconditional deny on * removes the action; a deny on some resources or under a condition does not', () => {
    const granted = [allow('sts:AssumeRole')];
    // The guard appended to every boundary denies sts:AssumeRole of the broker only.
    expect(actionsOf(input([allow('*')], granted))).toEqual(['sts:AssumeRole']);
    expect(
      actionsOf(input([allow('*'), { Effect: 'Deny', Action: 'sts:AssumeRole', Resource: '*' }], granted)),
    ).toEqual([]);
    expect(
      actionsOf(
        input(
          [
            allow('*'),
            {
              Effect: 'Deny',
              Action: 'sts:AssumeRole',
              Resource: '*',
              Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'false' } },
            },
          ],
          granted,
        ),
      ),
    ).toEqual(['sts:AssumeRole']);
  });

  it('counts an allow with a condition or a narrow resource (may allow)', () => {
    const narrow = allow('lambda:UpdateFunctionCode', {
      Resource: 'arn:aws:lambda:*:123456789012:function:app-*',
      Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } },
    });
    expect(actionsOf(input([narrow], [narrow]))).toEqual(['lambda:UpdateFunctionCode']);
  });

  it('new compute handed a role is a path only together with iam:PassRole', () => {
    expect(actionsOf(input([allow('lambda:CreateFunction')], [allow('lambda:*')]))).toEqual([]);
    const findings = findPersistencePaths(
      catalog,
      input([allow(['lambda:CreateFunction', 'iam:PassRole'])], [allow(['lambda:*', 'iam:PassRole'])]),
    );
    expect(findings.map((f) => formatPersistenceWarning('t.yaml', 't', f))).toEqual([
      'warning: t.yaml: t: allows iam:PassRole (role chaining)',
      'warning: t.yaml: t: allows lambda:CreateFunction (code under another role, with iam:PassRole)',
    ]);
  });

  it('a managed policy that is not modelled counts as whatever the boundary allows', () => {
    expect(
      actionsOf(
        input([allow('ec2-instance-connect:SendSSHPublicKey')], undefined, [
          'arn:aws:iam::123456789012:policy/Custom',
        ]),
      ),
    ).toEqual(['ec2-instance-connect:SendSSHPublicKey']);
  });
});

describe('the shipped templates', () => {
  it.each(['readonly', 's3-data-reader', 'developer'])('%s allows no persistence path', (name) => {
    expect(findPersistencePaths(catalog, summaryInputOf(shipped.template(name)!))).toEqual([]);
  });

  it('admin-breakglass: only the accepted ones (iam:PassRole, resource-policy writes, code under existing roles), no new credentials, sts:AssumeRole or trust changes', () => {
    const findings = findPersistencePaths(catalog, summaryInputOf(shipped.template('admin-breakglass')!));
    const accepted = PERSISTENCE_PATHS.filter(
      (p) =>
        p.category !== 'new credentials' &&
        !['sts:AssumeRole', 'iam:UpdateAssumeRolePolicy'].includes(p.action),
    ).map((p) => p.action);
    expect(findings.map((f) => f.action)).toEqual(accepted);
    expect(findings.map((f) => f.category)).not.toContain('new credentials');
  });
});
