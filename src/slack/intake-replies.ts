/**
 * IntakeReplies over Slack: the intake job's answer to the requester goes to the command's
 * response_url, ephemerally, with the texts the command listener used to send itself. The POST is
 * the one Bolt's respond() makes (same body, same fetch), so nothing the requester sees changed
 * when the work moved to the job.
 */
import { effectiveAccessLine } from '../domain/effective-access.js';
import type { IntakeOutcome, IntakeReplies } from '../domain/intake.js';
import { clip, escapeMrkdwn, SlackLimit } from './mrkdwn.js';
import { slackFetch } from './slack-fetch.js';
import { groupCreatedText } from './views/group-message.js';
import { refusalText } from './views/request-text.js';

export const SOMETHING_WENT_WRONG = ':warning: Something went wrong; nothing was changed. Please try again.';

export function intakeAnswerText(outcome: IntakeOutcome): string {
  switch (outcome.kind) {
    case 'created': {
      if (outcome.group) return groupCreatedText(outcome.group);
      const r = outcome.request;
      const scps = effectiveAccessLine(r.effectiveAccess);
      return r.state === 'pending'
        ? `Request \`${r.id}\` sent to the approvers (${r.approvalsRequired} approval${r.approvalsRequired > 1 ? 's' : ''} needed). You will get a DM at each step.${scps ? `\n${escapeMrkdwn(scps)}` : ''}`
        : `Request \`${r.id}\` is ${escapeMrkdwn(r.state)}. Details are in your DMs.`;
    }
    case 'refused':
      return `Your request was not created:\n${refusalText(outcome.refusals)}`;
    case 'grant-failed':
      return `:warning: ${escapeMrkdwn(outcome.message)}. The security team has been alerted.`;
    case 'limit':
      return `:warning: Not created: ${escapeMrkdwn(outcome.message)}.`;
    case 'failed':
      return SOMETHING_WENT_WRONG;
  }
}

export class SlackIntakeReplies implements IntakeReplies {
  constructor(private readonly fetchFn: typeof fetch = slackFetch) {}

  async answer(responseUrl: string, outcome: IntakeOutcome): Promise<void> {
    const response = await this.fetchFn(responseUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        response_type: 'ephemeral',
        text: clip(intakeAnswerText(outcome), SlackLimit.messageText),
      }),
    });
    // The status only: a response_url is a capability and stays out of errors and logs.
    if (!response.ok) throw new Error(`the response_url answered ${response.status}`);
  }
}
