/**
 * A multi-account request in Slack: the one approvers' message (every account with its rule and
 * approvals so far, Approve / Deny acting on the whole request), the one DM listing every grant
 * (with a Revoke button per account and one for all), and the texts of `status` and the intake
 * reply. Account names come from Organizations and are escaped; the reason is plain_text only.
 */
import type { Button, KnownBlock } from '@slack/types';
import { describeState, holdsRole, type AccessRequest } from '../../domain/access-request.js';
import type { ApprovalRule } from '../../domain/approval-policy.js';
import { formatDuration } from '../../domain/duration.js';
import type { Delivery, TemplateInfo } from '../../domain/ports.js';
import type { GroupView } from '../../domain/request-group.js';
import { effectiveAccessLine } from '../../domain/effective-access.js';
import {
  escapeMrkdwn,
  escapeMrkdwnKeepingMentions,
  mention,
  mrkdwn,
  plainText,
  slackDate,
  SlackLimit,
} from '../mrkdwn.js';
import { deliveryBlocks } from './delivery-message.js';
import { ActionId, approversText, STATE_ICON } from './request-message.js';
import { templateMrkdwn } from './template-summary.js';

export const GroupActionId = {
  approve: 'group_approve',
  deny: 'group_deny',
  revoke: 'group_revoke',
} as const;

/** Slack's most blocks per message: a longer DM goes out as several messages. */
const MAX_BLOCKS = 50;

function lead(view: GroupView): AccessRequest | undefined {
  return view.members[0];
}

export function groupHeadline(view: GroupView): string {
  const first = lead(view);
  return `AWS access request ${view.group.id}: ${escapeMrkdwn(first?.templateName ?? '')} on ${view.members.length} accounts for ${formatDuration(first?.durationSeconds ?? 0)}`;
}

/** One line per account: state, name, id, rule, approvals so far of those required. */
export function memberLine(member: AccessRequest): string {
  const approvals =
    member.approvalsRequired === 0
      ? 'auto-approved by its rule once the rest is approved'
      : `${member.approvals.length} of ${member.approvalsRequired} approvals${
          member.approvals.length ? ` (${member.approvals.map((a) => mention(a.approverId)).join(', ')})` : ''
        }`;
  const until = member.expiresAt && holdsRole(member.state) ? ` until ${slackDate(member.expiresAt)}` : '';
  // What the account's SCPs leave of the template, when they take something away (#17).
  const scps = effectiveAccessLine(member.effectiveAccess);
  const scpNote =
    scps && member.effectiveAccess?.allowed !== member.effectiveAccess?.asked
      ? `\n      ↳ ${escapeMrkdwn(scps)}`
      : '';
  return `${STATE_ICON[member.state]} *${escapeMrkdwn(member.accountName)}* (\`${member.accountId}\`) · rule ${escapeMrkdwn(
    member.ruleName,
  )} · ${approvals} · ${describeState(member.state)}${until} · \`${member.id}\`${scpNote}`;
}

/** Sections of whole account lines; what does not fit in Slack's blocks is counted, not cut. */
const MAX_MEMBER_SECTIONS = 30;

function memberSections(view: GroupView): KnownBlock[] {
  const room = SlackLimit.text - 100;
  const sections: string[] = [];
  let shown = 0;
  for (const member of view.members) {
    // A single line longer than a section is clipped; it names the account first.
    const line = memberLine(member).slice(0, room);
    const last = sections[sections.length - 1];
    if (last !== undefined && last.length + 1 + line.length <= room) {
      sections[sections.length - 1] = `${last}\n${line}`;
    } else if (sections.length < MAX_MEMBER_SECTIONS) {
      sections.push(line);
    } else break;
    shown++;
  }
  const blocks: KnownBlock[] = sections.map((text) => ({ type: 'section', text: mrkdwn(text) }));
  if (shown < view.members.length) {
    blocks.push({
      type: 'context',
      elements: [
        mrkdwn(
          `…and ${view.members.length - shown} more accounts: \`/aws-access status ${view.group.id}\` lists them all.`,
        ),
      ],
    });
  }
  return blocks;
}

export interface GroupMessageOptions {
  ruleByName: (name: string) => ApprovalRule | undefined;
  template: TemplateInfo | undefined;
  note?: string;
}

export function groupMessageBlocks(view: GroupView, options: GroupMessageOptions): KnownBlock[] {
  const first = lead(view);
  if (!first)
    return [{ type: 'section', text: plainText(`Request ${view.group.id} is no longer on record.`) }];
  const rules = [...new Set(view.members.map((m) => m.ruleName))];
  const blocks: KnownBlock[] = [
    { type: 'header', text: plainText(`AWS access request ${view.group.id}`, SlackLimit.headerText) },
    {
      type: 'section',
      text: mrkdwn(
        `${mention(first.requesterId)} asks for *${escapeMrkdwn(first.templateName)}* on *${view.members.length} accounts* for ${formatDuration(first.durationSeconds)}. Every account needs the approvals of the strictest rule; nothing is granted until all are approved.`,
      ),
      fields: rules.slice(0, 10).map((name) => ({
        type: 'mrkdwn' as const,
        text: `*Rule ${escapeMrkdwn(name)}*\n${approversText(options.ruleByName(name))}`.slice(
          0,
          SlackLimit.sectionField,
        ),
      })),
    },
  ];
  blocks.push(...memberSections(view));
  blocks.push({ type: 'section', text: mrkdwn('*Reason*') });
  blocks.push({ type: 'section', block_id: 'reason', text: plainText(first.reason || '(none given)') });
  if (options.template)
    blocks.push({ type: 'context', elements: [mrkdwn(templateMrkdwn(options.template))] });
  const denied = view.members.find((m) => m.state === 'denied');
  const status = [groupState(view)];
  if (denied?.decidedBy && denied.decidedBy !== 'system')
    status.push(`denied by ${mention(denied.decidedBy)}`);
  // The note names accounts (from Organizations) and people: escaped, our own mentions kept.
  if (options.note) status.push(escapeMrkdwnKeepingMentions(options.note));
  blocks.push({ type: 'context', elements: [mrkdwn(status.join(' · '))] });
  if (denied?.denyReason) {
    blocks.push({ type: 'section', text: mrkdwn('*Why denied*') });
    blocks.push({ type: 'section', text: plainText(denied.denyReason) });
  }
  if (view.members.some((m) => m.state === 'pending' && m.approvalsRequired > 0)) {
    blocks.push({
      type: 'actions',
      block_id: 'group_decision',
      elements: [
        {
          type: 'button',
          action_id: GroupActionId.approve,
          text: plainText('Approve'),
          style: 'primary',
          value: view.group.id,
        },
        {
          type: 'button',
          action_id: GroupActionId.deny,
          text: plainText('Deny'),
          style: 'danger',
          value: view.group.id,
        },
      ],
    });
  }
  return blocks;
}

/** The group's state in a word: the one all accounts share, or how many are granted. */
export function groupState(view: GroupView): string {
  const states = new Set(view.members.map((m) => m.state));
  if (states.size === 1) {
    const [state] = states;
    return `${STATE_ICON[state!]} *${describeState(state!)}*`;
  }
  const active = view.members.filter((m) => m.state === 'active').length;
  const pending = view.members.filter((m) => m.state === 'pending').length;
  if (pending)
    return `${STATE_ICON.pending} *waiting for approvals* (${pending} of ${view.members.length} accounts)`;
  return `${STATE_ICON.active} *${active} of ${view.members.length} accounts active*`;
}

/**
 * The one DM listing every grant: how to use each, a Revoke button per account and one for the
 * whole request. Split into several messages only past Slack's 50 blocks.
 */
export function groupDeliveryMessages(
  view: GroupView,
  grants: ReadonlyArray<{ request: AccessRequest; delivery: Delivery }>,
): Array<{ text: string; blocks: KnownBlock[] }> {
  const text = `Access granted on ${grants.length} account${grants.length > 1 ? 's' : ''} (request ${view.group.id}).`;
  const head: KnownBlock[] = [
    {
      type: 'section',
      text: mrkdwn(
        `:white_check_mark: *Access granted* on ${grants.length} of the ${view.members.length} accounts of request \`${view.group.id}\`: one role per account, each ending on its own.`,
      ),
    },
    {
      type: 'actions',
      block_id: 'group_revoke',
      elements: [
        {
          type: 'button',
          action_id: GroupActionId.revoke,
          text: plainText('Revoke all'),
          style: 'danger',
          value: view.group.id,
        },
      ],
    },
    {
      type: 'context',
      elements: [
        mrkdwn(
          `\`/aws-access revoke ${view.group.id}\` ends every account; \`/aws-access revoke &lt;id&gt;\` (each account's id below) ends one. \`extend\` works the same way.`,
        ),
      ],
    },
  ];
  const messages: KnownBlock[][] = [head];
  for (const { request, delivery } of grants) {
    const revokeOne: Button = {
      type: 'button',
      action_id: ActionId.revoke,
      text: plainText(`Revoke ${request.accountName}`.slice(0, 75)),
      value: request.id,
    };
    const part: KnownBlock[] = [
      { type: 'divider' },
      ...deliveryBlocks(request, delivery),
      { type: 'actions', elements: [revokeOne] },
    ];
    const current = messages[messages.length - 1]!;
    if (current.length + part.length > MAX_BLOCKS) messages.push(part);
    else current.push(...part);
  }
  return messages.map((blocks, i) => ({ text: i === 0 ? text : `${text} (continued)`, blocks }));
}

/** `/aws-access status g-…`: every account's line. */
export function groupStatusText(view: GroupView): string {
  return [`*Request ${view.group.id}* · ${groupState(view)}`, ...view.members.map(memberLine)].join('\n');
}

/** The intake's answer to the requester once the request was created. */
export function groupCreatedText(view: GroupView): string {
  const waiting = view.members.some((m) => m.state === 'pending');
  const required = Math.max(...view.members.map((m) => m.approvalsRequired));
  const names = view.members.map((m) => escapeMrkdwn(m.accountName)).join(', ');
  // As a single request's confirmation: what the SCPs leave, for each account they reduce.
  const scps = view.members.flatMap((m) => {
    const line = effectiveAccessLine(m.effectiveAccess);
    return line && m.effectiveAccess?.allowed !== m.effectiveAccess?.asked
      ? [`\n${escapeMrkdwn(m.accountName)}: ${escapeMrkdwn(line)}`]
      : [];
  });
  return waiting
    ? `Request \`${view.group.id}\` for ${view.members.length} accounts (${names}) sent to the approvers (${required} approval${required > 1 ? 's' : ''} needed on each account). You will get a DM at each step.${scps.join('')}`
    : `Request \`${view.group.id}\` for ${view.members.length} accounts (${names}): ${groupState(view)}. Details are in your DMs.${scps.join('')}`;
}
