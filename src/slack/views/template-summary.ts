import type { AccessLevelSummary, TemplateInfo } from '../../domain/ports.js';
import { escapeMrkdwn } from '../mrkdwn.js';

const LEVELS = ['List', 'Read', 'Write', 'Permissions management', 'Tagging'] as const;

/** One line per service, e.g. `s3: List 2 · Read 5`, then warnings; plain text. */
export function summaryLines(summary: AccessLevelSummary, maxServices = 8): string[] {
  const lines = summary.services.slice(0, maxServices).map((s) => {
    const parts = LEVELS.filter((l) => (s.counts[l] ?? 0) > 0).map((l) => `${l} ${s.counts[l]}`);
    return `${s.service}: ${parts.join(' · ') || 'no actions'}`;
  });
  if (summary.services.length > maxServices)
    lines.push(`…and ${summary.services.length - maxServices} more services`);
  for (const flag of summary.flags) lines.push(`⚠ ${flag}`);
  return lines;
}

/** The template as approvers and requesters see it, in mrkdwn with every part escaped. */
export function templateMrkdwn(template: TemplateInfo): string {
  const badges = [template.requiresMfa ? 'MFA required' : '', template.breakGlass ? 'break-glass' : '']
    .filter(Boolean)
    .join(', ');
  const lines = summaryLines(template.summary).map((l) => `• ${escapeMrkdwn(l)}`);
  return [
    `*${escapeMrkdwn(template.name)}*${badges ? ` (${badges})` : ''} – ${escapeMrkdwn(template.description)}`,
    ...lines,
  ].join('\n');
}
