/**
 * `/aws-access`: help and syntax errors are answered in the ack; everything that may be slow
 * (Slack profile and group look-ups, the grant itself) runs after the ack and answers through
 * the command's response_url, ephemerally.
 *
 * A one-line request is acked "Checking your request…" and handed to the intake job (one Redis
 * round trip, jobs/intake-worker.ts): the worker role checks, creates and announces it and
 * answers the response_url, so this process's event loop is free for the next ack.
 */
import { OpenRequestLimitError } from '../../../domain/request-ports.js';
import type { RespondFn, SlashCommand } from '@slack/bolt';
import type { ListenerApp } from '../../listener-router.js';
import { CommandSyntaxError, parseCommand, USAGE, type AccessCommand } from '../../../domain/command.js';
import { GrantOperationError } from '../../../domain/request-service.js';
import { SOMETHING_WENT_WRONG } from '../../intake-replies.js';
import { groupStatusText } from '../../views/group-message.js';
import { clip, escapeMrkdwn, SlackLimit } from '../../mrkdwn.js';
import { requestModal } from '../../views/request-modal.js';
import { listText, refusalText, resultText, statusText, templatesText } from '../../views/request-text.js';
import { isFlowContext, type FlowContext, type ListenerContext } from '../context.js';

export const HELP_TEXT = [
  '*aws-access* gives you just-in-time AWS access: ask, get approved, get a role that ends on its own.',
  USAGE,
].join('\n');

function ephemeral(text: string) {
  return { response_type: 'ephemeral' as const, text: clip(text, SlackLimit.messageText) };
}

/**
 * Slack waits 3 s for the ack. Answers that need Slack look-ups (profiles, user groups, which
 * retry and wait out rate limits) go in the ack when they are ready within this budget, and
 * otherwise follow through the response_url after a "Working on it…" ack.
 */
export const ACK_BUDGET_MS = 2000;

async function answerWithinAck(
  ack: (reply: ReturnType<typeof ephemeral>) => Promise<void>,
  respond: RespondFn,
  pending: Promise<string>,
): Promise<void> {
  const answer = pending.catch(() => SOMETHING_WENT_WRONG);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ACK_BUDGET_MS);
  });
  const early = await Promise.race([answer, late]).finally(() => clearTimeout(timer));
  if (early !== undefined) {
    await ack(ephemeral(early));
    return;
  }
  await ack(ephemeral('Working on it…'));
  await respond(ephemeral(await answer));
}

async function runSlow(
  context: FlowContext,
  parsed: AccessCommand,
  command: SlashCommand,
  respond: RespondFn,
): Promise<void> {
  const userId = command.user_id;
  const { requests } = context;
  switch (parsed.kind) {
    case 'request':
      // The answer comes from the intake job, through the response_url (SlackIntakeReplies).
      await context.intake.submit({
        teamId: command.team_id,
        triggerId: command.trigger_id,
        responseUrl: command.response_url,
        draft: {
          requesterId: command.user_id,
          account: parsed.account,
          template: parsed.template,
          durationSeconds: parsed.durationSeconds,
          reason: parsed.reason,
        },
      });
      return;
    case 'cancel':
    case 'revoke':
    case 'extend': {
      if (requests.isGroupId(parsed.requestId)) {
        // A multi-account request's id acts on every account; an account's own id on that one.
        const id = parsed.requestId;
        const result =
          parsed.kind === 'cancel'
            ? await requests.cancelGroup(id, userId)
            : parsed.kind === 'revoke'
              ? await requests.revokeGroup(id, userId, { reason: 'revoked with /aws-access revoke' })
              : await requests.extendGroup(id, userId, parsed.durationSeconds);
        await respond(ephemeral(result.ok ? escapeMrkdwn(result.message) : refusalText([result.refusal])));
        return;
      }
      const result =
        parsed.kind === 'cancel'
          ? await requests.cancel(parsed.requestId, userId)
          : parsed.kind === 'revoke'
            ? await requests.revokeGrant(parsed.requestId, userId, {
                reason: 'revoked with /aws-access revoke',
              })
            : await requests.extendGrant(parsed.requestId, userId, parsed.durationSeconds);
      await respond(ephemeral(resultText(result)));
      return;
    }
    default:
      return;
  }
}

export function register(app: ListenerApp, context: ListenerContext): void {
  app.command(context.config.slack.command, async ({ command: cmd, ack, respond, client }) => {
    let parsed: AccessCommand;
    try {
      parsed = parseCommand(cmd.text ?? '');
    } catch (error) {
      if (error instanceof CommandSyntaxError) {
        await ack(ephemeral(`:warning: ${escapeMrkdwn(error.message)}\n\n${error.usage}`));
        return;
      }
      throw error;
    }
    if (parsed.kind === 'help') {
      await ack(ephemeral(HELP_TEXT));
      return;
    }
    if (!isFlowContext(context)) {
      await ack(ephemeral(`\`${parsed.kind}\` is not available on this deployment.\n\n${USAGE}`));
      return;
    }
    const flow = context;
    switch (parsed.kind) {
      case 'open-modal': {
        await ack();
        // trigger_id is valid for 3 s from Slack's side: check, then open the form straight away.
        const ineligible = await flow.requests.whyIneligible(cmd.user_id);
        if (ineligible) {
          await respond({ response_type: 'ephemeral', text: refusalText([ineligible]) });
          return;
        }
        await client.views.open({
          trigger_id: cmd.trigger_id,
          view: requestModal({
            templates: flow.templates.list(),
            limits: flow.requests.settings.limits,
            maxAccounts: flow.requests.settings.maxAccountsPerRequest,
            defaultDuration: flow.config.durations.default,
          }),
        });
        return;
      }
      case 'templates': {
        const answer = flow.requests
          .whyIneligible(cmd.user_id)
          .then((ineligible) =>
            ineligible ? refusalText([ineligible]) : templatesText(flow.templates.list()),
          );
        await answerWithinAck(ack, respond, answer);
        return;
      }
      case 'list':
        await ack(ephemeral(listText(await flow.requests.listFor(cmd.user_id))));
        return;
      case 'status': {
        const answer = flow.requests.isGroupId(parsed.requestId)
          ? flow.requests
              .groupStatus(parsed.requestId, cmd.user_id)
              .then((result) => (result.ok ? groupStatusText(result.view) : refusalText([result.refusal])))
          : flow.requests
              .status(parsed.requestId, cmd.user_id)
              .then((result) => (result.ok ? statusText(result.request) : refusalText([result.refusal])));
        await answerWithinAck(ack, respond, answer);
        return;
      }
      default:
        await ack(ephemeral(parsed.kind === 'request' ? 'Checking your request…' : 'Working on it…'));
    }
    try {
      await runSlow(flow, parsed, cmd, respond);
    } catch (error) {
      flow.logger.error({ err: error, command: parsed.kind }, 'aws-access command failed');
      const text =
        error instanceof GrantOperationError
          ? `:warning: ${escapeMrkdwn(error.message)}. The security team has been alerted.`
          : error instanceof OpenRequestLimitError
            ? `:warning: Not created: ${escapeMrkdwn(error.message)}.`
            : SOMETHING_WENT_WRONG;
      await respond(ephemeral(text)).catch(() => undefined);
    }
  });
}
