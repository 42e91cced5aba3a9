/** Short mrkdwn texts for command answers: status, lists, refusals. User text is escaped. */
import { describeState, holdsRole, type AccessRequest } from '../../domain/access-request.js';
import type { Refusal } from '../../domain/approval-policy.js';
import { formatDuration } from '../../domain/duration.js';
import type { TemplateInfo } from '../../domain/ports.js';
import type { ActionResult } from '../../domain/request-service.js';
import { clip, escapeMrkdwn } from '../mrkdwn.js';
import { accountLine } from './request-message.js';
import { templateMrkdwn } from './template-summary.js';

/**
 * Longest line per request or template: names and OU paths are long at worst, and a list of
 * them must stay one readable message under Slack's limit on `text`.
 */
const MAX_REQUEST_LINE = 600;
const MAX_TEMPLATE_ENTRY = 1500;

export function requestLine(request: AccessRequest): string {
  const until =
    request.expiresAt && holdsRole(request.state)
      ? ` until ${new Date(request.expiresAt).toISOString()}`
      : '';
  const what = clip(`*${escapeMrkdwn(request.templateName)}* on ${accountLine(request)}`, MAX_REQUEST_LINE);
  // An account of a multi-account request also names the request, whose id acts on all of it.
  const group = request.groupId ? ` (request \`${request.groupId}\`)` : '';
  return `\`${request.id}\`${group} ${what} for ${formatDuration(request.durationSeconds)} – ${describeState(request.state)}${until}`;
}

export function statusText(request: AccessRequest): string {
  return [
    requestLine(request),
    `Approvals: ${request.approvals.length} of ${request.approvalsRequired} · rule ${escapeMrkdwn(request.ruleName)}`,
    `Reason: ${escapeMrkdwn(request.reason || '(none)')}`,
  ].join('\n');
}

export function listText(lists: {
  active: AccessRequest[];
  pending: AccessRequest[];
  recent: AccessRequest[];
}): string {
  const part = (title: string, items: AccessRequest[]) =>
    `*${title}*\n${items.length ? items.map((r) => `• ${requestLine(r)}`).join('\n') : '_none_'}`;
  return [
    part('Active grants', lists.active),
    part('Pending requests', lists.pending),
    part('Recently finished', lists.recent),
  ].join('\n\n');
}

export function templatesText(templates: TemplateInfo[]): string {
  if (!templates.length) return 'No templates are configured.';
  return templates
    .map(
      (t) =>
        `${clip(templateMrkdwn(t), MAX_TEMPLATE_ENTRY)}\nUp to ${formatDuration(t.maxDurationSeconds)}, default ${formatDuration(t.defaultDurationSeconds)}.`,
    )
    .join('\n\n');
}

export function refusalText(refusals: Refusal[]): string {
  return refusals.map((r) => `:no_entry: ${escapeMrkdwn(r.message)}`).join('\n');
}

/** The service's answer to an action: its message, or the refusal. */
export function resultText(result: ActionResult): string {
  return result.ok ? result.message : refusalText([result.refusal]);
}
