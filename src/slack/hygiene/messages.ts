/**
 * Block Kit for credential hygiene: rotation reminder DMs (with Snooze), enforcement warnings,
 * escalations and unowned findings for the security channel, and the weekly digest. Pure
 * functions of their input so tests can read them; every name that came from IAM is escaped.
 */
import type { KnownBlock } from '@slack/types';
import type { Digest } from '../../domain/hygiene/digest.js';
import { FINDING_KINDS, FINDING_LABELS, type Finding } from '../../domain/hygiene/types.js';
import { clip, SlackLimit } from '../mrkdwn.js';

export const SNOOZE_ACTION_ID = 'hygiene_snooze';

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/** Slack mrkdwn control characters; IAM names and tags are user text. */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export type AccountNames = ReadonlyMap<string, string>;

function accountLabel(accountId: string, names: AccountNames): string {
  const name = names.get(accountId);
  return name ? `${escapeText(name)} (${accountId})` : accountId;
}

function day(iso: string | undefined): string {
  return iso ? iso.slice(0, 10) : 'never';
}

function ownerLabel(finding: Finding): string {
  const o = finding.owner;
  if (!o) return '';
  return o.kind === 'slack' ? ` — owner <@${o.slackUserId}>` : ` — _no owner: ${escapeText(o.reason)}_`;
}

export function findingLine(finding: Finding, names: AccountNames, withOwner = false): string {
  const where = accountLabel(finding.accountId, names);
  const who = finding.userName ? `*${escapeText(finding.userName)}* in ${where}` : `account ${where}`;
  const key = finding.key
    ? ` (created ${day(finding.key.createdAt)}, last used ${day(finding.key.lastUsedAt)})`
    : '';
  return `• ${who}: ${escapeText(finding.detail)}${key}${withOwner ? ownerLabel(finding) : ''}`;
}

/** A line longer than this (IAM names and tag values are long at worst) is clipped. */
const MAX_LINE = 1000;
const SECTION_TEXT = SlackLimit.text - 100;

/** Section blocks under Slack's 3,000-character limit, at most `maxBlocks` of them. */
function sections(all: string[], maxBlocks = 20): KnownBlock[] {
  const lines = all.map((line) => clip(line, MAX_LINE));
  const blocks: KnownBlock[] = [];
  let current = '';
  let shown = 0;
  for (const line of lines) {
    if (current && current.length + line.length + 1 > SECTION_TEXT) {
      if (blocks.length + 1 >= maxBlocks) break;
      blocks.push({ type: 'section', text: { type: 'mrkdwn', text: current } });
      current = '';
    }
    current = current ? `${current}\n${line}` : line;
    shown += 1;
  }
  if (current) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: current } });
  if (shown < lines.length)
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `…and ${lines.length - shown} more` }],
    });
  return blocks;
}

export const ROTATION_STEPS = [
  '1. Create a new access key: `aws iam create-access-key --user-name USER_NAME`',
  '2. Switch every script, CI secret and profile to the new key, and check it works',
  '3. Deactivate the old key: `aws iam update-access-key --user-name USER_NAME --access-key-id OLD_KEY_ID --status Inactive`',
  '4. After a few days without breakage, delete the old key: `aws iam delete-access-key --user-name USER_NAME --access-key-id OLD_KEY_ID`',
];

export function rotationReminderMessage(input: {
  reminderId: string;
  findings: Finding[];
  accountNames: AccountNames;
  rotationDays: number;
  snoozeDays: number;
}): SlackMessage {
  const n = input.findings.length;
  const text = `${n} of your AWS access ${n === 1 ? 'key is' : 'keys are'} older than ${input.rotationDays} days: please rotate`;
  return {
    text,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: 'Time to rotate your AWS access keys' } },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `These access keys are older than ${input.rotationDays} days:`,
        },
      },
      ...sections(input.findings.map((f) => findingLine(f, input.accountNames))),
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `*How to rotate*\n${ROTATION_STEPS.join('\n')}` },
      },
      {
        type: 'actions',
        block_id: 'hygiene_reminder_actions',
        elements: [
          {
            type: 'button',
            action_id: SNOOZE_ACTION_ID,
            text: { type: 'plain_text', text: `Snooze ${input.snoozeDays} days` },
            value: input.reminderId,
          },
        ],
      },
    ],
  };
}

export function snoozedMessage(findings: number, until: Date, byUserId: string): SlackMessage {
  const when = until.toISOString().slice(0, 10);
  const text = `Rotation reminder for ${findings} ${findings === 1 ? 'key' : 'keys'} snoozed until ${when}`;
  return {
    text,
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `:zzz: ${text} by <@${byUserId}>. The security team still sees keys past their age.`,
        },
      },
    ],
  };
}

export function enforcementWarningMessage(input: {
  findings: Finding[];
  accountNames: AccountNames;
  deactivateAfter: Date;
  unusedKeyDays: number;
  toSecurity: boolean;
}): SlackMessage {
  const when = input.deactivateAfter.toISOString().slice(0, 10);
  const text = input.toSecurity
    ? `Unowned AWS access keys unused for ${input.unusedKeyDays}+ days will be deactivated after ${when}`
    : `Your unused AWS access keys will be deactivated after ${when}`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `:warning: *${text}*` } },
      ...sections(input.findings.map((f) => findingLine(f, input.accountNames, input.toSecurity))),
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: 'Deactivated keys are not deleted: they can be re-activated in IAM. A key used again before then is left alone.',
          },
        ],
      },
    ],
  };
}

export function keysDeactivatedMessage(findings: Finding[], accountNames: AccountNames): SlackMessage {
  const text = `${findings.length} unused AWS access ${findings.length === 1 ? 'key was' : 'keys were'} deactivated`;
  return {
    text,
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `*${text}* (not deleted; re-activate in IAM if needed)` },
      },
      ...sections(findings.map((f) => findingLine(f, accountNames))),
    ],
  };
}

export function escalationMessage(
  findings: Finding[],
  accountNames: AccountNames,
  escalateAfterDays: number,
): SlackMessage {
  const text = `${findings.length} AWS access ${findings.length === 1 ? 'key is' : 'keys are'} past rotation age and still not rotated`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `:rotating_light: *${text}*` } },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `Owners were reminded more than ${escalateAfterDays} days ago, or nobody owns the key.`,
          },
        ],
      },
      ...sections(findings.map((f) => findingLine(f, accountNames, true))),
    ],
  };
}

export function unownedFindingsMessage(
  accountId: string,
  findings: Finding[],
  accountNames: AccountNames,
): SlackMessage {
  // The account name is config text: escaped in the fallback too, where Slack parses mrkdwn.
  const text = `Credential hygiene: ${findings.length} ${findings.length === 1 ? 'finding' : 'findings'} in ${escapeText(clip(accountNames.get(accountId) ?? accountId, MAX_LINE))} with no owner`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${text}*` } },
      ...sections(findings.map((f) => findingLine(f, accountNames, true))),
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: 'Tag each IAM user with `slack-user` (a Slack id) or `email`, or add it to the identity map.',
          },
        ],
      },
    ],
  };
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

export function digestMessage(digest: Digest, accountNames: AccountNames): SlackMessage {
  const text = `Credential hygiene digest ${digest.week}: ${digest.total} findings${
    digest.totalChange === undefined ? '' : ` (${signed(digest.totalChange)} since ${digest.previousWeek})`
  }`;
  const kindLines = FINDING_KINDS.filter((k) => digest.totals[k] > 0 || (digest.change?.[k] ?? 0) !== 0).map(
    (k) =>
      `• ${FINDING_LABELS[k]}: *${digest.totals[k]}*${digest.change ? ` (${signed(digest.change[k])})` : ''}`,
  );
  const accountLines = digest.accounts.map((a) => {
    const parts = FINDING_KINDS.filter((k) => a.counts[k] > 0).map(
      (k) => `${FINDING_LABELS[k]} ${a.counts[k]}`,
    );
    return `• ${accountLabel(a.accountId, accountNames)}: *${a.total}*${parts.length ? ` — ${parts.join(', ')}` : ''}`;
  });
  const offenderLines = digest.worstOffenders.map(
    (o) =>
      `• *${escapeText(o.userName)}* in ${accountLabel(o.accountId, accountNames)}: ${o.count} (${o.kinds
        .map((k) => FINDING_LABELS[k])
        .join(', ')})${o.owner?.kind === 'slack' ? ` — <@${o.owner.slackUserId}>` : ' — no owner'}`,
  );
  return {
    text,
    blocks: [
      {
        type: 'header',
        text: {
          type: 'plain_text',
          text: clip(`Credential hygiene — ${digest.week}`, SlackLimit.headerText),
        },
      },
      { type: 'section', text: { type: 'mrkdwn', text: `*${text}*` } },
      ...(kindLines.length ? sections(['*By finding*', ...kindLines], 4) : []),
      ...(accountLines.length ? sections(['*By account*', ...accountLines], 4) : []),
      ...(offenderLines.length ? sections(['*Worst offenders*', ...offenderLines], 2) : []),
      ...(digest.change
        ? []
        : [
            {
              type: 'context' as const,
              elements: [{ type: 'mrkdwn' as const, text: 'First digest: no earlier week to compare with.' }],
            },
          ]),
    ],
  };
}
