/**
 * How to use a grant, sent only by DM. In credentials mode the blocks hold a sign-in link and
 * session credentials: the fallback `text` never does, so notification previews stay clean.
 */
import type { Button, KnownBlock } from '@slack/types';
import type { AccessRequest } from '../../domain/access-request.js';
import type { Delivery } from '../../domain/ports.js';
import { clip, escapeMrkdwn, mrkdwn, plainText, slackDate, SlackLimit } from '../mrkdwn.js';
import { ActionId } from './request-message.js';

export function deliveryText(request: AccessRequest, delivery: Delivery): string {
  return `Access granted: ${escapeMrkdwn(request.templateName)} on ${escapeMrkdwn(request.accountName)} until ${delivery.expiresAt.toISOString()} (request ${request.id}).`;
}

/** Room for the fences and a title in a section holding part of a snippet. */
const SNIPPET_CHUNK = SlackLimit.text - 100;

/**
 * A snippet as code sections of whole lines: credentials must arrive complete, so a long one is
 * split rather than clipped (only a single line longer than a section is clipped).
 */
function snippetSections(title: string, snippet: string): KnownBlock[] {
  const chunks: string[] = [];
  for (const raw of snippet.split('\n')) {
    const line = clip(raw, SNIPPET_CHUNK);
    const last = chunks.length ? chunks[chunks.length - 1]! : undefined;
    if (last !== undefined && last.length + 1 + line.length <= SNIPPET_CHUNK) {
      chunks[chunks.length - 1] = `${last}\n${line}`;
    } else chunks.push(line);
  }
  return chunks.map((chunk, i) => ({
    type: 'section',
    text: mrkdwn(`${i === 0 ? `${title}:\n` : ''}\`\`\`${chunk}\`\`\``),
  }));
}

export function deliveryBlocks(request: AccessRequest, delivery: Delivery): KnownBlock[] {
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: mrkdwn(
        `:white_check_mark: *Access granted*: *${escapeMrkdwn(request.templateName)}* on ${escapeMrkdwn(request.accountName)} (\`${delivery.accountId}\`) until ${slackDate(delivery.expiresAt.getTime())}.\n${
          delivery.accessPortalUrl
            ? `Permission set \`${escapeMrkdwn(delivery.roleName)}\` in IAM Identity Center: sign in at ${escapeMrkdwn(delivery.accessPortalUrl)} and pick the account, or use the CLI profile below with \`aws sso login\`.`
            : `Role \`${escapeMrkdwn(delivery.roleArn)}\``
        }`,
      ),
    },
  ];
  const url = delivery.mode === 'assume' ? delivery.switchRoleUrl : delivery.consoleSignInUrl;
  // Slack rejects a longer button URL, and a clipped one would not work: no button then.
  const link = url && url.length <= SlackLimit.url ? url : undefined;
  const buttons: Button[] = [];
  if (link) {
    buttons.push({
      type: 'button',
      action_id: 'delivery_console',
      text: plainText(
        delivery.accessPortalUrl
          ? 'Open in the AWS access portal'
          : delivery.mode === 'assume'
            ? 'Switch role in the console'
            : 'Open the console',
      ),
      url: link,
      style: 'primary',
    });
  }
  if (delivery.mode === 'credentials') {
    // A session lasts at most an hour (role chaining); the grant may last longer.
    buttons.push({
      type: 'button',
      action_id: ActionId.refreshDelivery,
      text: plainText('Refresh credentials'),
      value: request.id,
    });
  }
  if (buttons.length) blocks.push({ type: 'actions', elements: buttons });
  if (delivery.mode === 'credentials' && !link) {
    blocks.push({
      type: 'context',
      elements: [
        mrkdwn(
          ':warning: The console sign-in link is unavailable right now (the AWS sign-in endpoint could not be reached). The CLI credentials below work; *Refresh credentials* tries the link again.',
        ),
      ],
    });
  }
  const snippet = delivery.mode === 'assume' ? delivery.cliProfile : delivery.envExports;
  if (snippet) {
    blocks.push(
      ...snippetSections(
        delivery.mode === 'assume' ? 'AWS CLI profile' : 'Shell exports (keep them private)',
        snippet,
      ),
    );
  }
  blocks.push({
    type: 'context',
    elements: [mrkdwn(`Request \`${request.id}\` · \`/aws-access revoke ${request.id}\` ends it early.`)],
  });
  return blocks;
}
