/**
 * Buttons of a multi-account request: Approve / Deny on its one approvers' message (acting on
 * every account, each re-checked at click time) and Revoke all on the requester's grants DM.
 * A single account's Revoke button is App Home's (home-actions.ts), with the account's own id.
 */
import type { BlockAction, ButtonAction } from '@slack/bolt';
import type { ListenerApp } from '../../listener-router.js';
import { escapeMrkdwn } from '../../mrkdwn.js';
import { GroupActionId } from '../../views/group-message.js';
import { denyModal } from '../../views/request-modal.js';
import { refusalText } from '../../views/request-text.js';
import type { FlowContext } from '../context.js';
import { tellClicker } from './request-decisions.js';

type GroupResult = Awaited<ReturnType<FlowContext['requests']['approveGroup']>>;

function groupResultText(result: GroupResult): string {
  return result.ok ? escapeMrkdwn(result.message) : refusalText([result.refusal]);
}

export function register(app: ListenerApp, context: FlowContext): void {
  app.action<BlockAction<ButtonAction>>(GroupActionId.approve, async ({ ack, body, action, client }) => {
    await ack();
    const groupId = action.value ?? '';
    try {
      const result = await context.requests.approveGroup(groupId, body.user.id);
      await tellClicker(client, body, groupResultText(result));
    } catch (error) {
      context.logger.error({ err: error, groupId }, 'approving a multi-account request failed');
      await tellClicker(
        client,
        body,
        `:warning: Approving request ${groupId} failed; please try again.`,
      ).catch(() => undefined);
    }
  });

  app.action<BlockAction<ButtonAction>>(GroupActionId.deny, async ({ ack, body, action, client }) => {
    await ack();
    const groupId = action.value ?? '';
    const allowed = await context.requests.checkGroupDecider(groupId, body.user.id, 'deny');
    if (allowed !== true) {
      await tellClicker(client, body, refusalText([allowed]));
      return;
    }
    // The deny form is the single request's; its submission sees the group id (request-forms.ts).
    await client.views.open({ trigger_id: body.trigger_id, view: denyModal(groupId) });
  });

  app.action<BlockAction<ButtonAction>>(GroupActionId.revoke, async ({ ack, body, action, client }) => {
    await ack();
    const groupId = action.value ?? '';
    try {
      const result = await context.requests.revokeGroup(groupId, body.user.id, {
        reason: 'revoked from the grants DM',
      });
      await tellClicker(client, body, groupResultText(result));
    } catch (error) {
      context.logger.error({ err: error, groupId }, 'revoking a multi-account request failed');
      await tellClicker(
        client,
        body,
        `:warning: Revoking request ${groupId} failed; please try again.`,
      ).catch(() => undefined);
    }
  });
}
