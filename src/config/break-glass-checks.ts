/**
 * Checks of the approval rules that need the templates: break-glass is only ever an explicit,
 * group-limited allowance of a rule (never autoApprove, never on-call auto-approval), and every
 * template a rule's allowance names exists. Run by `validate` and at start-up.
 */
import type { FileIssue } from '../errors.js';
import type { AppConfig } from './schema.js';

export function breakGlassIssues(
  file: string,
  config: AppConfig,
  templates: ReadonlyArray<{ name: string; breakGlass: boolean }>,
): FileIssue[] {
  const issues: FileIssue[] = [];
  const byName = new Map(templates.map((t) => [t.name.toLowerCase(), t]));
  config.approval.rules.forEach((rule, i) => {
    const at = `approval.rules.${i}`;
    rule.breakGlass?.templates.forEach((name, j) => {
      const template = byName.get(name.toLowerCase());
      if (!template || !template.breakGlass) {
        issues.push({
          file,
          path: `${at}.breakGlass.templates.${j}`,
          message: template
            ? `template "${name}" is not a break-glass template (breakGlass: true in its file); use autoApprove or approvers for it`
            : `no template called "${name}"`,
        });
      }
    });
    rule.onCallAutoApprove?.templates.forEach((name, j) => {
      const template = byName.get(name.toLowerCase());
      if (!template || template.breakGlass) {
        issues.push({
          file,
          path: `${at}.onCallAutoApprove.templates.${j}`,
          message: template
            ? `template "${name}" is a break-glass template; on-call auto-approval never applies to it (break-glass is allowed only by breakGlass: { templates, requesterGroups })`
            : `no template called "${name}"`,
        });
      }
    });
    if (!rule.autoApprove) return;
    rule.match.templates?.forEach((name, j) => {
      if (byName.get(name.toLowerCase())?.breakGlass) {
        issues.push({
          file,
          path: `${at}.match.templates.${j}`,
          message: `autoApprove would grant break-glass template "${name}" to everyone the rule matches; break-glass is allowed only by breakGlass: { templates, requesterGroups } (autoApprove never applies to it)`,
        });
      }
    });
  });
  return issues;
}
