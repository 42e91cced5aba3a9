/** App Home buttons: Cancel a pending request, Revoke or Extend an active grant. */
import type { BlockAction, ButtonAction } from '@slack/bolt';
import type { ListenerApp } from '../../listener-router.js';
import { GrantOperationError } from '../../../domain/request-service.js';
import { escapeMrkdwn } from '../../mrkdwn.js';
import { publishHome } from '../events/app-home-opened.js';
import { ActionId } from '../../views/request-message.js';
import { durationChoices, extendModal } from '../../views/request-modal.js';
import { refusalText, resultText } from '../../views/request-text.js';
import type { FlowContext } from '../context.js';
import { tellClicker } from './request-decisions.js';

export function register(app: ListenerApp, context: FlowContext): void {
  app.action<BlockAction<ButtonAction>>(ActionId.cancel, async ({ ack, body, action, client }) => {
    await ack();
    const result = await context.requests.cancel(action.value ?? '', body.user.id);
    await tellClicker(client, body, resultText(result));
    await publishHome(client, context, body.user.id);
  });

  app.action<BlockAction<ButtonAction>>(ActionId.revoke, async ({ ack, body, action, client }) => {
    await ack();
    try {
      const result = await context.requests.revokeGrant(action.value ?? '', body.user.id, {
        reason: 'revoked from App Home',
      });
      await tellClicker(client, body, resultText(result));
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

  app.action<BlockAction<ButtonAction>>(ActionId.refreshDelivery, async ({ ack, body, action, client }) => {
    await ack();
    try {
      const result = await context.requests.refreshDelivery(action.value ?? '', body.user.id);
      if (!result.ok) await tellClicker(client, body, refusalText([result.refusal]));
    } catch (error) {
      context.logger.warn({ err: error, requestId: action.value }, 'refreshing credentials failed');
      await tellClicker(
        client,
        body,
        ':warning: New credentials could not be issued; try again in a minute.',
      );
    }
  });

  // Extend from App Home or from the expiry-warning DM: the form offers what the limits allow.
  for (const actionId of [ActionId.extend, ActionId.extendGrant]) {
    app.action<BlockAction<ButtonAction>>(actionId, async ({ ack, body, action, client }) => {
      await ack();
      const offer = await context.requests.extensionOffer(action.value ?? '', body.user.id);
      if (!offer.ok) {
        await tellClicker(client, body, refusalText([offer.refusal]));
        return;
      }
      const { request, allowance } = offer;
      const choices = durationChoices(allowance.maxSeconds, context.requests.settings.limits);
      if (!choices.length) {
        await tellClicker(
          client,
          body,
          `:no_entry: Request ${request.id} cannot be extended: ${escapeMrkdwn(allowance.reason ?? 'no extension is allowed now')}.`,
        );
        return;
      }
      await client.views.open({ trigger_id: body.trigger_id, view: extendModal(request.id, choices) });
    });
  }
}
