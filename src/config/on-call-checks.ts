/**
 * Checks of the rules' on-call settings that need more than the config file: the templates
 * (on-call auto-approval names real, non-break-glass templates) and the environment (every
 * provider a rule names has its API token). Run at start-up; `validate` reports a missing token
 * as a warning, since it usually runs where the Secret is not.
 */
import type { OnCallProvider } from '../domain/policy/on-call-schedule.js';
import type { FileIssue } from '../errors.js';
import type { EnvOptions } from './env.js';
import type { AppConfig } from './schema.js';

const TOKEN_VARIABLES: Record<OnCallProvider, string> = {
  pagerduty: 'PAGERDUTY_API_TOKEN',
  opsgenie: 'OPSGENIE_API_KEY',
};

export function tokenVariable(provider: OnCallProvider): string {
  return TOKEN_VARIABLES[provider];
}

/** The API token of each provider, from the environment (set from the Secret in the chart). */
export function onCallTokens(env: EnvOptions): Partial<Record<OnCallProvider, string>> {
  return {
    ...(env.pagerdutyApiToken ? { pagerduty: env.pagerdutyApiToken } : {}),
    ...(env.opsgenieApiKey ? { opsgenie: env.opsgenieApiKey } : {}),
  };
}

export function onCallTemplateIssues(
  file: string,
  config: AppConfig,
  templates: ReadonlyArray<{ name: string; breakGlass: boolean }>,
): FileIssue[] {
  const issues: FileIssue[] = [];
  const byName = new Map(templates.map((t) => [t.name.toLowerCase(), t]));
  config.approval.rules.forEach((rule, i) => {
    rule.onCallAutoApprove?.templates.forEach((name, j) => {
      const template = byName.get(name.toLowerCase());
      if (!template || template.breakGlass) {
        issues.push({
          file,
          path: `approval.rules.${i}.onCallAutoApprove.templates.${j}`,
          message: template
            ? `template "${name}" is a break-glass template; on-call auto-approval never applies to it (break-glass is allowed only by breakGlass: { templates, requesterGroups })`
            : `no template called "${name}"`,
        });
      }
    });
  });
  return issues;
}

/** Every schedule a rule names whose provider has no API token in the environment. */
export function onCallTokenIssues(file: string, config: AppConfig, env: EnvOptions): FileIssue[] {
  const tokens = onCallTokens(env);
  const issues: FileIssue[] = [];
  config.approval.rules.forEach((rule, i) => {
    const named = [
      ...(rule.approvers.onCall ?? []).map((s, j) => ({ s, path: `approvers.onCall.${j}` })),
      ...(rule.onCallAutoApprove?.schedules ?? []).map((s, j) => ({
        s,
        path: `onCallAutoApprove.schedules.${j}`,
      })),
    ];
    for (const { s, path } of named) {
      if (tokens[s.provider]) continue;
      issues.push({
        file,
        path: `approval.rules.${i}.${path}.provider`,
        message: `schedule "${s.schedule}" is in ${s.provider}, but ${tokenVariable(s.provider)} is not set (environment, or the chart's Secret); without it nobody could be confirmed on call`,
      });
    }
  });
  return issues;
}
