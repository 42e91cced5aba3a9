/**
 * Reads and validates every `templates/*.yaml`. Each problem becomes a FileIssue naming the
 * file and the field (`templates/dev.yaml: boundary.Statement[1].Action[0]: unknown action …`);
 * any problem fails the whole load, so the bot never starts with a half-valid catalog.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  formatIssuePath,
  parseYaml,
  zodIssuesToFileIssues,
  type LoadedConfig,
} from '../config/load-config.js';
import type { TemplateCatalog, TemplateInfo } from '../domain/ports.js';
import { ConfigError, type FileIssue } from '../errors.js';
import { summarizeAccess, type SummaryInput } from './access-summary.js';
import { templateFileSchema, type BoundaryTemplate, type TemplateFile } from './boundary-template.js';
import {
  conditionsPolicy,
  expiryPolicy,
  renderBoundary,
  renderInline,
  revokeSessionsPolicy,
  sessionPolicy,
  trustPolicy,
} from './grant-policies.js';
import {
  describeActionProblem,
  expandActionPattern,
  loadIamActionCatalog,
  type IamActionCatalog,
} from './iam-action-catalog.js';
import { asList, POLICY_LIMITS, policySize, statementsOf, type PolicyDocument } from './policy-document.js';
import {
  ACCOUNT_VARIABLES,
  findUnknownVariables,
  GRANT_VARIABLES,
  type VariableValues,
} from './policy-variables.js';

/**
 * Longest realistic values, so a template that fits here fits for every grant: 12-digit
 * account, 64-character requester and principal ARN, a 40-character request id.
 */
export function sampleVariables(template: string): VariableValues {
  const requester = `${'r'.repeat(52)}@example.com`;
  return {
    account_id: '123456789012',
    partition: 'aws-us-gov',
    region: 'ap-southeast-2',
    template,
    broker_role_name: 'aws-access-broker',
    requester,
    requester_email: requester,
    slack_user_id: 'U0123456789AB',
    principal_arn: `arn:aws:iam::123456789012:user/${'p'.repeat(64)}`,
    request_id: 'x'.repeat(40),
    role_name: `aws-access-${'x'.repeat(40)}`,
    starts_at: '2030-12-31T23:59:59.999Z',
    expires_at: '2030-12-31T23:59:59.999Z',
  };
}

/**
 * What the access summary and the persistence-path warnings are computed from: the boundary (guard
 * included) and inline policy rendered with the sample values, and the managed policy ARNs.
 */
export function summaryInputOf(
  template: Pick<BoundaryTemplate, 'name' | 'boundary' | 'inlinePolicy' | 'managedPolicyArns'>,
): SummaryInput {
  const values = sampleVariables(template.name);
  return {
    boundary: renderBoundary(template, values),
    inlinePolicy: renderInline(template, values),
    managedPolicyArns: template.managedPolicyArns.map((a) => a.replace('${partition}', 'aws')),
  };
}

function checkActions(
  catalog: IamActionCatalog,
  file: string,
  field: string,
  policy: PolicyDocument,
): FileIssue[] {
  const issues: FileIssue[] = [];
  statementsOf(policy).forEach((statement, i) => {
    for (const key of ['Action', 'NotAction'] as const) {
      const value = statement[key];
      if (value === undefined) continue;
      asList(value).forEach((pattern, j) => {
        const result = expandActionPattern(catalog, pattern);
        if ('problem' in result) {
          const segments: PropertyKey[] = [field, 'Statement', i, key];
          if (Array.isArray(value)) segments.push(j);
          issues.push({
            file,
            path: formatIssuePath(segments),
            message: describeActionProblem(pattern, result.problem),
          });
        }
      });
    }
  });
  return issues;
}

function checkVariables(
  file: string,
  field: string,
  document: unknown,
  allowed: readonly string[],
  hint: string,
) {
  return findUnknownVariables(document, allowed).map<FileIssue>((v) => ({
    file,
    path: v.path ? `${field}.${v.path}` : field,
    message: `unknown variable \${${v.name}}${hint}`,
  }));
}

function checkSize(file: string, field: string, policy: unknown, limit: number, what: string): FileIssue[] {
  const size = policySize(policy);
  return size > limit
    ? [
        {
          file,
          path: field,
          message: `${what} is ${size} characters without whitespace; AWS allows ${limit}`,
        },
      ]
    : [];
}

/** Validates one template's text; returns the template or the problems, never both. */
export async function parseTemplate(
  file: string,
  text: string,
): Promise<{ template?: BoundaryTemplate; issues: FileIssue[] }> {
  const parsed = parseYaml(file, text);
  if (parsed.issues.length) return { issues: parsed.issues };
  const result = templateFileSchema.safeParse(parsed.value ?? {});
  if (!result.success) return { issues: zodIssuesToFileIssues(file, result.error) };
  const t: TemplateFile = result.data;
  const catalog = await loadIamActionCatalog();
  const issues: FileIssue[] = [];

  const accountHint = ` (the boundary is shared by every grant in an account, so only ${ACCOUNT_VARIABLES.map((v) => `\${${v}}`).join(', ')} are available)`;
  const grantHint = ` (known: ${GRANT_VARIABLES.map((v) => `\${${v}}`).join(', ')})`;
  issues.push(...checkVariables(file, 'boundary', t.boundary, ACCOUNT_VARIABLES, accountHint));
  issues.push(
    ...checkVariables(file, 'managedPolicyArns', t.managedPolicyArns, ['account_id', 'partition'], ''),
  );
  if (t.inlinePolicy)
    issues.push(...checkVariables(file, 'inlinePolicy', t.inlinePolicy, GRANT_VARIABLES, grantHint));
  if (t.sessionPolicy)
    issues.push(...checkVariables(file, 'sessionPolicy', t.sessionPolicy, GRANT_VARIABLES, grantHint));

  issues.push(...checkActions(catalog, file, 'boundary', t.boundary));
  if (t.inlinePolicy) issues.push(...checkActions(catalog, file, 'inlinePolicy', t.inlinePolicy));
  if (t.sessionPolicy) issues.push(...checkActions(catalog, file, 'sessionPolicy', t.sessionPolicy));

  if (t.maxDuration < t.defaultDuration)
    issues.push({ file, path: 'maxDuration', message: 'must not be shorter than defaultDuration' });
  if (t.maxTotalDuration !== undefined && t.maxTotalDuration < t.maxDuration)
    issues.push({ file, path: 'maxTotalDuration', message: 'must not be shorter than maxDuration' });
  if (issues.length) return { issues };

  const values = sampleVariables(t.name);
  const conditions = t.conditions ?? {};
  const boundary = renderBoundary(t, values);
  issues.push(
    ...checkSize(file, 'boundary', boundary, POLICY_LIMITS.managed, 'the boundary (with the bot guard)'),
  );
  const inline = renderInline(t, values);
  const inlineTotal =
    (inline ? policySize(inline) : 0) +
    policySize(expiryPolicy(new Date(values.expires_at!))) +
    policySize(revokeSessionsPolicy(new Date(values.expires_at!))) +
    (conditionsPolicy(conditions) ? policySize(conditionsPolicy(conditions)) : 0);
  if (inlineTotal > POLICY_LIMITS.roleInline)
    issues.push({
      file,
      path: 'inlinePolicy',
      message: `the role's inline policies would total ${inlineTotal} characters without whitespace; AWS allows ${POLICY_LIMITS.roleInline}`,
    });
  const trust = trustPolicy({
    principalArn: values.principal_arn!,
    brokerRoleArn: `arn:aws:iam::123456789012:role/${values.broker_role_name}`,
    requiresMfa: t.requiresMfa,
    sourceIps: conditions.sourceIps,
  });
  issues.push(...checkSize(file, 'conditions.sourceIps', trust, POLICY_LIMITS.trust, 'the trust policy'));
  issues.push(
    ...checkSize(
      file,
      'sessionPolicy',
      sessionPolicy(t, values, new Date(values.expires_at!)),
      POLICY_LIMITS.session,
      'the session policy',
    ),
  );
  if (issues.length) return { issues };

  const template: BoundaryTemplate = {
    file,
    name: t.name,
    description: t.description,
    boundary: t.boundary,
    managedPolicyArns: t.managedPolicyArns,
    inlinePolicy: t.inlinePolicy,
    sessionPolicy: t.sessionPolicy,
    defaultDurationSeconds: t.defaultDuration,
    maxDurationSeconds: t.maxDuration,
    maxTotalSeconds: t.maxTotalDuration,
    maxExtensions: t.maxExtensions,
    requiresMfa: t.requiresMfa,
    allowedAccounts: t.allowedAccounts,
    allowedOus: t.allowedOus,
    conditions,
    breakGlass: t.breakGlass,
    summary: summarizeAccess(catalog, summaryInputOf(t)),
  };
  return { template, issues: [] };
}

export function toTemplateInfo(t: BoundaryTemplate): TemplateInfo {
  return {
    name: t.name,
    description: t.description,
    defaultDurationSeconds: t.defaultDurationSeconds,
    maxDurationSeconds: t.maxDurationSeconds,
    maxTotalSeconds: t.maxTotalSeconds,
    maxExtensions: t.maxExtensions,
    requiresMfa: t.requiresMfa,
    breakGlass: t.breakGlass,
    allowedAccounts: t.allowedAccounts,
    allowedOus: t.allowedOus,
    summary: t.summary,
  };
}

/** The loaded templates, by name; what the Slack flow (TemplateCatalog) and the grant engine read. */
export class BoundaryTemplateCatalog implements TemplateCatalog {
  private readonly byName: Map<string, BoundaryTemplate>;

  constructor(readonly templates: BoundaryTemplate[]) {
    this.byName = new Map(templates.map((t) => [t.name, t]));
  }

  list(): TemplateInfo[] {
    return this.templates.map(toTemplateInfo);
  }

  get(name: string): TemplateInfo | undefined {
    const t = this.byName.get(name);
    return t && toTemplateInfo(t);
  }

  template(name: string): BoundaryTemplate | undefined {
    return this.byName.get(name);
  }
}

/** Loads `directory/*.yaml`; throws ConfigError listing every problem in every file. */
/** Where the config's `templates.directory` points, resolved against the config file. */
export function templatesDirectory(loaded: LoadedConfig): string {
  return path.resolve(loaded.baseDir, loaded.config.templates.directory);
}

export async function loadTemplates(directory: string): Promise<BoundaryTemplateCatalog> {
  let names: string[];
  try {
    names = (await readdir(directory)).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'directory not found' : (error as Error).message;
    throw new ConfigError([{ file: directory, path: '', message: reason }]);
  }
  if (names.length === 0)
    throw new ConfigError([{ file: directory, path: '', message: 'holds no *.yaml templates' }]);
  const issues: FileIssue[] = [];
  const templates: BoundaryTemplate[] = [];
  const seen = new Map<string, string>();
  for (const name of names) {
    const file = path.join(directory, name);
    const result = await parseTemplate(file, await readFile(file, 'utf8'));
    issues.push(...result.issues);
    if (!result.template) continue;
    const other = seen.get(result.template.name);
    if (other)
      issues.push({ file, path: 'name', message: `"${result.template.name}" is also the name in ${other}` });
    seen.set(result.template.name, file);
    templates.push(result.template);
  }
  if (issues.length) throw new ConfigError(issues);
  return new BoundaryTemplateCatalog(templates);
}
