/**
 * Form submissions: the request form (errors inline on the field, then the request is opened
 * after the ack), the deny reason, and the extension length.
 */
import { OpenRequestLimitError } from '../../../domain/request-ports.js';
import type { BlockAction, StaticSelectAction, ViewStateValue } from '@slack/bolt';
import type { ListenerApp } from '../../listener-router.js';
import type { WebClient } from '@slack/web-api';
import type { RequestField } from '../../../domain/approval-policy.js';
import { GrantOperationError, type RequestDraft } from '../../../domain/request-service.js';
import { intakeAnswerText } from '../../intake-replies.js';
import { escapeMrkdwn } from '../../mrkdwn.js';
import { refusalText, resultText } from '../../views/request-text.js';
import {
  DENY_MODAL_ID,
  EXTEND_MODAL_ID,
  FieldBlock,
  REQUEST_MODAL_ID,
  requestModal,
} from '../../views/request-modal.js';
import type { FlowContext } from '../context.js';

type Values = Record<string, Record<string, ViewStateValue>>;

function selected(values: Values, block: string, action: string): string | undefined {
  return values[block]?.[action]?.selected_option?.value ?? undefined;
}

function typed(values: Values, block: string, action: string): string {
  return values[block]?.[action]?.value ?? '';
}

async function submitSeveral(context: FlowContext, client: WebClient, draft: RequestDraft): Promise<void> {
  try {
    const submitted = await context.requests.submit(draft);
    const text = !submitted.ok
      ? `Your request was not created:\n${refusalText(submitted.refusals)}`
      : intakeAnswerText({
          kind: 'created',
          request: submitted.request,
          ...(submitted.group ? { group: submitted.group } : {}),
        });
    await client.chat.postMessage({ channel: draft.requesterId, text });
  } catch (error) {
    context.logger.error({ err: error }, 'opening a multi-account request failed');
    await client.chat.postMessage({
      channel: draft.requesterId,
      text:
        error instanceof OpenRequestLimitError
          ? `:warning: Your request was not created: ${escapeMrkdwn(error.message)}.`
          : ':warning: Your request could not be created; please try again.',
    });
  }
}

export function register(app: ListenerApp, context: FlowContext): void {
  app.view(REQUEST_MODAL_ID, async ({ ack, body, view, client }) => {
    const values = view.state.values as Values;
    // The account field is a multi-select; a single pick is an ordinary request.
    const picked = values[FieldBlock.account]?.account?.selected_options?.map((o) => o.value);
    const accounts = picked?.length
      ? picked
      : [selected(values, FieldBlock.account, 'account')].filter(Boolean);
    const account = accounts[0];
    const template = selected(values, FieldBlock.template, 'template');
    const duration = Number(selected(values, FieldBlock.duration, 'duration'));
    const errors: Partial<Record<RequestField, string>> = {};
    if (!account) errors.account = 'Pick an account';
    if (!template) errors.template = 'Pick a template';
    if (!Number.isFinite(duration) || duration <= 0) errors.duration = 'Pick a duration';
    if (Object.keys(errors).length) {
      await ack({ response_action: 'errors', errors });
      return;
    }
    if (accounts.length > 1) {
      // Several accounts: checked and created after the ack (one look-up set per account takes
      // longer than Slack waits for a form); the answer, or what was refused, comes by DM.
      await ack();
      await submitSeveral(context, client, {
        requesterId: body.user.id,
        account: accounts.join(','),
        template: template!,
        durationSeconds: duration,
        reason: typed(values, FieldBlock.reason, 'reason'),
      });
      return;
    }
    const prepared = await context.requests.prepare({
      requesterId: body.user.id,
      account: account!,
      template: template!,
      durationSeconds: duration,
      reason: typed(values, FieldBlock.reason, 'reason'),
    });
    if (!prepared.ok) {
      for (const r of prepared.refusals) {
        const field = r.field ?? 'account';
        errors[field] = errors[field] ? `${errors[field]}; ${r.message}` : r.message;
      }
      await ack({ response_action: 'errors', errors });
      return;
    }
    await ack();
    try {
      await context.requests.open(prepared.prepared);
    } catch (error) {
      context.logger.error({ err: error }, 'opening a request failed');
      await client.chat.postMessage({
        channel: body.user.id,
        text:
          error instanceof OpenRequestLimitError
            ? `:warning: Your request was not created: ${escapeMrkdwn(error.message)}.`
            : ':warning: Your request could not be created; please try again.',
      });
    }
  });

  // Picking a template narrows the duration choices to what it allows.
  app.action<BlockAction<StaticSelectAction>>('template', async ({ ack, body, action, client }) => {
    await ack();
    // A forged or stale action may carry no selection.
    const value = action.selected_option?.value;
    const template = value ? context.templates.get(value) : undefined;
    if (!body.view || !template) return;
    await client.views.update({
      view_id: body.view.id,
      hash: body.view.hash,
      view: requestModal({
        templates: context.templates.list(),
        limits: context.requests.settings.limits,
        maxAccounts: context.requests.settings.maxAccountsPerRequest,
        defaultDuration: context.config.durations.default,
        selectedTemplate: template,
      }),
    });
  });

  app.view(DENY_MODAL_ID, async ({ ack, body, view, client }) => {
    const reason = typed(view.state.values as Values, 'reason', 'reason').trim();
    if (!reason) {
      await ack({ response_action: 'errors', errors: { reason: 'Say why, so the requester knows' } });
      return;
    }
    await ack();
    const id = view.private_metadata;
    const result = context.requests.isGroupId(id)
      ? await context.requests.denyGroup(id, body.user.id, reason)
      : await context.requests.deny(id, body.user.id, reason);
    if (!result.ok) {
      await client.chat.postMessage({ channel: body.user.id, text: refusalText([result.refusal]) });
    }
  });

  app.view(EXTEND_MODAL_ID, async ({ ack, body, view, client }) => {
    const seconds = Number(selected(view.state.values as Values, 'duration', 'duration'));
    await ack();
    try {
      const result = await context.requests.extendGrant(view.private_metadata, body.user.id, seconds);
      await client.chat.postMessage({
        channel: body.user.id,
        text: resultText(result),
      });
    } catch (error) {
      if (!(error instanceof GrantOperationError)) throw error;
      await client.chat.postMessage({
        channel: body.user.id,
        text: `:warning: ${escapeMrkdwn(error.message)}`,
      });
    }
  });
}
