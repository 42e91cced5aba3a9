/** App Home buttons: Cancel a pending request, Revoke or Extend an active grant. */
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { maxDurationFor } from '../../../domain/approval-policy.js';
import { GrantOperationError } from '../../../domain/request-service.js';
import { escapeMrkdwn } from '../../mrkdwn.js';
import { publishHome } from '../events/app-home-opened.js';
import { ActionId } from '../../views/request-message.js';
import { durationChoices, extendModal } from '../../views/request-modal.js';
import type { FlowContext } from '../context.js';
import { tellClicker } from './request-decisions.js';

export function register(app: App, context: FlowContext): void {
  app.action<BlockAction<ButtonAction>>(ActionId.cancel, async ({ ack, body, action, client }) => {
    await ack();
    const result = await context.requests.cancel(action.value ?? '', body.user.id);
    await tellClicker(
      client,
      body,
      result.ok ? result.message : `:no_entry: ${escapeMrkdwn(result.refusal.message)}`,
    );
    await publishHome(client, context, body.user.id);
  });

  app.action<BlockAction<ButtonAction>>(ActionId.revoke, async ({ ack, body, action, client }) => {
    await ack();
    try {
      const result = await context.requests.revokeGrant(action.value ?? '', body.user.id, {
        reason: 'revoked from App Home',
      });
      await tellClicker(
        client,
        body,
        result.ok ? result.message : `:no_entry: ${escapeMrkdwn(result.refusal.message)}`,
      );
    } catch (error) {
      if (!(error instanceof GrantOperationError)) throw error;
      await tellClicker(
        client,
        body,
        `:warning: ${escapeMrkdwn(error.message)}. The security team has been alerted.`,
      );
    }
    await publishHome(client, context, body.user.id);
  });

  app.action<BlockAction<ButtonAction>>(ActionId.extend, async ({ ack, body, action, client }) => {
    await ack();
    const request = await context.requests.get(action.value ?? '');
    const rule = request && context.requests.rule(request.ruleName);
    const template = request && context.templates.get(request.templateName);
    if (!request || !rule || !template || request.requesterId !== body.user.id) {
      await tellClicker(client, body, ':no_entry: This grant cannot be extended by you.');
      return;
    }
    const choices = durationChoices(
      maxDurationFor(rule, template, context.requests.settings.limits),
      context.requests.settings.limits,
    );
    await client.views.open({ trigger_id: body.trigger_id, view: extendModal(request.id, choices) });
  });
}
