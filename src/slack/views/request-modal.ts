/**
 * The request form: account (type-ahead over the directory), template (with what it allows),
 * duration (choices within the chosen template's maximum) and reason. Problems come back inline
 * on the field via `response_action: 'errors'`.
 */
import type { KnownBlock, ModalView, Option, PlainTextOption } from '@slack/types';
import { MAX_REASON_LENGTH, type DurationLimits } from '../../domain/approval-policy.js';
import { formatDuration } from '../../domain/duration.js';
import { DEFAULT_MAX_ACCOUNTS_PER_REQUEST } from '../../domain/requests/group-targets.js';
import type { Account, TemplateInfo } from '../../domain/ports.js';
import { mrkdwn, plainText, SlackLimit } from '../mrkdwn.js';
import { templateMrkdwn } from './template-summary.js';

export const REQUEST_MODAL_ID = 'aws-access-request';
export const FieldBlock = {
  account: 'account',
  template: 'template',
  duration: 'duration',
  reason: 'reason',
} as const;

export const DURATION_CHOICES = [900, 1800, 3600, 7200, 14400, 28800, 43200, 86400];

export function durationChoices(maxSeconds: number, limits: Pick<DurationLimits, 'min'>): number[] {
  const choices = DURATION_CHOICES.filter((d) => d <= maxSeconds && d >= limits.min);
  if (!choices.includes(maxSeconds) && maxSeconds >= limits.min) choices.push(maxSeconds);
  return choices.sort((a, b) => a - b);
}

function durationOption(seconds: number): PlainTextOption {
  return { text: plainText(formatDuration(seconds)), value: String(seconds) };
}

export interface RequestModalInput {
  templates: TemplateInfo[];
  limits: DurationLimits;
  defaultDuration: number;
  /** requests.maxAccountsPerRequest: how many accounts the multi-select takes. */
  maxAccounts?: number;
  /** After a template is picked the durations are narrowed to its maximum. */
  selectedTemplate?: TemplateInfo;
}

export function requestModal(input: RequestModalInput): ModalView {
  const { templates, limits } = input;
  const max = input.selectedTemplate
    ? Math.min(input.selectedTemplate.maxDurationSeconds, limits.max)
    : Math.min(Math.max(0, ...templates.map((t) => t.maxDurationSeconds)), limits.max);
  const choices = durationChoices(max, limits);
  const preferred = input.selectedTemplate?.defaultDurationSeconds ?? input.defaultDuration;
  const initial = choices.includes(preferred) ? preferred : choices[0];
  const blocks: KnownBlock[] = [
    {
      type: 'input',
      block_id: FieldBlock.account,
      label: plainText('Accounts'),
      // Several accounts make one multi-account request (requests/group.ts).
      element: {
        type: 'multi_external_select',
        action_id: 'account',
        placeholder: plainText('Type a name, alias or id'),
        min_query_length: 0,
        max_selected_items: input.maxAccounts ?? DEFAULT_MAX_ACCOUNTS_PER_REQUEST,
      },
    },
    {
      type: 'input',
      block_id: FieldBlock.template,
      label: plainText('Template'),
      dispatch_action: true,
      element: {
        type: 'static_select',
        action_id: 'template',
        placeholder: plainText('What access do you need?'),
        options: templates.slice(0, 100).map((t) => ({
          text: plainText(t.name, SlackLimit.optionText),
          description: plainText(t.description, SlackLimit.optionText),
          value: t.name,
        })),
        ...(input.selectedTemplate
          ? {
              initial_option: {
                text: plainText(input.selectedTemplate.name, SlackLimit.optionText),
                description: plainText(input.selectedTemplate.description, SlackLimit.optionText),
                value: input.selectedTemplate.name,
              },
            }
          : {}),
      },
    },
    {
      type: 'context',
      block_id: 'template_summary',
      elements: [
        mrkdwn(
          (input.selectedTemplate ? [input.selectedTemplate] : templates.slice(0, 6))
            .map(templateMrkdwn)
            .join('\n\n') || 'No templates are configured.',
        ),
      ],
    },
    {
      type: 'input',
      block_id: FieldBlock.duration,
      label: plainText('Duration'),
      element: {
        type: 'static_select',
        action_id: 'duration',
        options: choices.map(durationOption),
        ...(initial ? { initial_option: durationOption(initial) } : {}),
      },
    },
    {
      type: 'input',
      block_id: FieldBlock.reason,
      label: plainText('Reason'),
      optional: true,
      hint: plainText('Most rules require one, e.g. a ticket or incident number'),
      element: {
        type: 'plain_text_input',
        action_id: 'reason',
        multiline: true,
        max_length: MAX_REASON_LENGTH,
      },
    },
  ];
  return {
    type: 'modal',
    callback_id: REQUEST_MODAL_ID,
    title: plainText('AWS access'),
    submit: plainText('Request'),
    close: plainText('Cancel'),
    blocks,
  };
}

/** Options for the account type-ahead: matches on id, name and alias, at most 100. */
export function accountOptions(accounts: Account[], query: string): Option[] {
  const q = query.trim().toLowerCase();
  return accounts
    .filter(
      (a) =>
        !q ||
        a.id.includes(q) ||
        a.name.toLowerCase().includes(q) ||
        a.aliases.some((alias) => alias.toLowerCase().includes(q)),
    )
    .slice(0, 100)
    .map((a) => ({
      text: plainText(`${a.name} (${a.id})`, SlackLimit.optionText),
      ...(a.ouPath.length
        ? { description: plainText(a.ouPath.map((o) => o.name || o.id).join(' / '), SlackLimit.optionText) }
        : {}),
      value: a.id,
    }));
}

export const DENY_MODAL_ID = 'aws-access-deny';

export function denyModal(requestId: string): ModalView {
  return {
    type: 'modal',
    callback_id: DENY_MODAL_ID,
    private_metadata: requestId,
    title: plainText('Deny request'),
    submit: plainText('Deny'),
    close: plainText('Back'),
    blocks: [
      {
        type: 'input',
        block_id: 'reason',
        label: plainText(`Why deny ${requestId}?`),
        element: { type: 'plain_text_input', action_id: 'reason', multiline: true, max_length: 500 },
      },
    ],
  };
}

export const EXTEND_MODAL_ID = 'aws-access-extend';

export function extendModal(requestId: string, choices: number[]): ModalView {
  return {
    type: 'modal',
    callback_id: EXTEND_MODAL_ID,
    private_metadata: requestId,
    title: plainText('Extend access'),
    submit: plainText('Extend'),
    close: plainText('Back'),
    blocks: [
      {
        type: 'input',
        block_id: 'duration',
        label: plainText(`Extend ${requestId} by`),
        element: {
          type: 'static_select',
          action_id: 'duration',
          options: choices.map(durationOption),
          ...(choices[0] ? { initial_option: durationOption(choices[0]) } : {}),
        },
      },
    ],
  };
}
