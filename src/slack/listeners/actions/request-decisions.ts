/**
 * Approve / Deny on the approver message (or App Home). Ack at once; the service then re-checks
 * everything at click time. A refused click changes nothing and gets an ephemeral explanation.
 */
import type { BlockAction, ButtonAction } from '@slack/bolt';
import type { ListenerApp } from '../../listener-router.js';
import type { WebClient } from '@slack/web-api';
import { GrantOperationError } from '../../../domain/request-service.js';
import type { ActionResult } from '../../../domain/requests/types.js';
import { escapeMrkdwn, escapeMrkdwnKeepingMentions } from '../../mrkdwn.js';
import { parseExtensionButtonValue } from '../../views/grant-messages.js';
import { ActionId } from '../../views/request-message.js';
import { denyModal } from '../../views/request-modal.js';
import { refusalText, resultText } from '../../views/request-text.js';
import type { FlowContext } from '../context.js';
import { publishHome } from '../events/app-home-opened.js';

/** Tells one person something privately: ephemeral in the channel of the click, else a DM. */
export async function tellClicker(client: WebClient, body: BlockAction, text: string): Promise<void> {
  const channel = body.channel?.id ?? body.container?.channel_id;
  if (channel && body.container?.type === 'message') {
    await client.chat.postEphemeral({ channel, user: body.user.id, text });
  } else {
    await client.chat.postMessage({ channel: body.user.id, text });
  }
}

/** Errors of a Redis connection that is reconnecting (a failover, a restart), not of the work. */
export function isTransientRedisError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return /MaxRetriesPerRequest|Connection is closed|Command timed out|READONLY|NOREPLICAS|Stream isn't writeable|ECONNRESET|ECONNREFUSED/.test(
    `${error.name} ${error.message}`,
  );
}

/** Attempts of an Approve click's work, and the pause before each retry (ms). */
export const APPROVE_RETRY_DELAYS_MS = [500, 1500, 3000];

/**
 * The work after an Approve ack, retried with backoff when Redis is reconnecting. Approving is
 * atomic and idempotent per approver: if an earlier attempt was counted before it failed, the
 * retry is refused as `already-approved` / `not-pending`, and the request, if it is still
 * `approved`, is provisioned here (provisioning re-derives everything and is guarded), so the
 * click does not leave it for reconcile.
 */
async function approveRetryingRedis(
  context: FlowContext,
  requestId: string,
  userId: string,
): Promise<ActionResult> {
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await context.requests.approve(requestId, userId);
      if (attempt === 0 || result.ok) return result;
      if (result.refusal.code !== 'already-approved' && result.refusal.code !== 'not-pending') return result;
      const current = await context.requests.get(requestId);
      if (current?.state !== 'approved') return result;
      const final = (await context.requests.provision(requestId)) ?? current;
      return { ok: true, request: final, message: `Approved request ${requestId}.` };
    } catch (error) {
      const delay = APPROVE_RETRY_DELAYS_MS[attempt];
      if (delay === undefined || !isTransientRedisError(error)) throw error;
      context.logger.warn(
        { err: error, requestId, attempt: attempt + 1 },
        'approve met a Redis reconnect; retrying',
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

export function register(app: ListenerApp, context: FlowContext): void {
  app.action<BlockAction<ButtonAction>>(ActionId.approve, async ({ ack, body, action, client }) => {
    await ack();
    const requestId = action.value ?? '';
    try {
      const result = await approveRetryingRedis(context, requestId, body.user.id);
      await tellClicker(client, body, resultText(result));
    } catch (error) {
      context.logger.error({ err: error, requestId }, 'approve failed');
      await tellClicker(
        client,
        body,
        `:warning: Approving request ${requestId} failed; please try again.`,
      ).catch(() => undefined);
    }
  });

  app.action<BlockAction<ButtonAction>>(ActionId.deny, async ({ ack, body, action, client }) => {
    await ack();
    const requestId = action.value ?? '';
    const checked = await context.requests.checkDecider(requestId, body.user.id, 'deny');
    if (!('id' in checked)) {
      await tellClicker(client, body, refusalText([checked]));
      return;
    }
    await client.views.open({ trigger_id: body.trigger_id, view: denyModal(requestId) });
  });

  // Break-glass review: approvers only, checked at click time; the first valid click records it.
  app.action<BlockAction<ButtonAction>>(ActionId.reviewBreakGlass, async ({ ack, body, action, client }) => {
    await ack();
    const requestId = action.value ?? '';
    try {
      const result = await context.requests.reviewBreakGlass(requestId, body.user.id);
      // The refusal may name the earlier reviewer as a mention; everything else in it is escaped.
      await tellClicker(
        client,
        body,
        result.ok ? result.message : `:no_entry: ${escapeMrkdwnKeepingMentions(result.refusal.message)}`,
      );
      if (body.container?.type === 'view') await publishHome(client, context, body.user.id);
    } catch (error) {
      context.logger.error({ err: error, requestId }, 'break-glass review failed');
      await tellClicker(client, body, ':warning: Recording the review failed; please try again.').catch(
        () => undefined,
      );
    }
  });

  // Extensions that need approval: the same click-time checks, counted once per approver.
  for (const [actionId, decide] of [
    [
      ActionId.extensionApprove,
      (id: string, user: string, at?: number) => context.requests.approveExtension(id, user, at),
    ],
    [
      ActionId.extensionDeny,
      (id: string, user: string, at?: number) => context.requests.denyExtension(id, user, at),
    ],
  ] as const) {
    app.action<BlockAction<ButtonAction>>(actionId, async ({ ack, body, action, client }) => {
      await ack();
      const { requestId, requestedAt } = parseExtensionButtonValue(action.value ?? '');
      try {
        const result = await decide(requestId, body.user.id, requestedAt);
        await tellClicker(client, body, resultText(result));
      } catch (error) {
        context.logger.error({ err: error, requestId }, 'extension decision failed');
        const text =
          error instanceof GrantOperationError
            ? `:warning: ${escapeMrkdwn(error.message)}`
            : ':warning: That did not work; please try again.';
        await tellClicker(client, body, text).catch(() => undefined);
      }
    });
  }
}
