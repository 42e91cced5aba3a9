/**
 * Checks of the rules' on-call settings that need the environment: every provider a rule names
 * has its API token. Run at start-up; `validate` reports a missing token as a warning, since it
 * usually runs where the Secret is not. (That on-call auto-approval names real, non-break-glass
 * templates is checked with the other template checks, in break-glass-checks.ts.)
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
