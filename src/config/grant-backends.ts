/**
 * Which grant backend makes a grant (docs/aws-grants.md "Choosing a backend"): the template's
 * setting (`aws.templateGrantBackends`) wins, then the account's (`aws.accounts[].grantBackend`),
 * then `aws.grantBackend`. And the checks of that choice that need the templates, run by
 * `validate` and at start-up.
 */
import type { FileIssue } from '../errors.js';
import { findUnknownVariables, ACCOUNT_VARIABLES } from '../templates/policy-variables.js';
import type { AppConfig } from './schema.js';
import type { GrantBackendName } from './schema/identity-center.js';

type AwsBackendSettings = Pick<AppConfig['aws'], 'grantBackend' | 'templateGrantBackends' | 'accounts'>;

export function grantBackendFor(
  aws: AwsBackendSettings,
  accountId: string,
  templateName: string,
): GrantBackendName {
  const byTemplate = Object.entries(aws.templateGrantBackends).find(
    ([name]) => name.toLowerCase() === templateName.toLowerCase(),
  );
  if (byTemplate) return byTemplate[1];
  return aws.accounts.find((a) => a.id === accountId)?.grantBackend ?? aws.grantBackend;
}

/** Whether any account or template may be granted through `backend`. */
export function mayUseBackend(
  aws: AwsBackendSettings,
  backend: GrantBackendName,
  templateName?: string,
): boolean {
  if (templateName !== undefined) {
    const byTemplate = Object.entries(aws.templateGrantBackends).find(
      ([name]) => name.toLowerCase() === templateName.toLowerCase(),
    );
    if (byTemplate) return byTemplate[1] === backend;
  }
  return (
    aws.grantBackend === backend ||
    aws.accounts.some((a) => a.grantBackend === backend) ||
    (templateName === undefined && Object.values(aws.templateGrantBackends).includes(backend))
  );
}

/**
 * A template named in `aws.templateGrantBackends` must exist; a template that may be granted
 * through Identity Center must not use per-grant variables in its inline policy, because its
 * permission set is shared by every grant of the template in every account.
 */
export function grantBackendIssues(
  file: string,
  config: AppConfig,
  templates: ReadonlyArray<{ name: string; file: string; inlinePolicy?: unknown }>,
): FileIssue[] {
  const issues: FileIssue[] = [];
  const names = new Set(templates.map((t) => t.name.toLowerCase()));
  for (const name of Object.keys(config.aws.templateGrantBackends)) {
    if (!names.has(name.toLowerCase())) {
      issues.push({
        file,
        path: `aws.templateGrantBackends.${name}`,
        message: `no template called "${name}"`,
      });
    }
  }
  for (const t of templates) {
    if (!t.inlinePolicy || !mayUseBackend(config.aws, 'identity-center', t.name)) continue;
    for (const v of findUnknownVariables(t.inlinePolicy, ACCOUNT_VARIABLES)) {
      issues.push({
        file: t.file,
        path: `inlinePolicy.${v.path}`,
        message: `\${${v.name}} is a per-grant variable; template ${t.name} may be granted through Identity Center, whose permission set is shared by every grant of the template (use IAM's own variables such as \${aws:PrincipalAccount}, or the iam-role backend)`,
      });
    }
  }
  return issues;
}
