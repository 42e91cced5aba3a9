/**
 * How to use a grant, sent only by DM. In credentials mode the blocks hold a sign-in link and
 * session credentials: the fallback `text` never does, so notification previews stay clean.
 */
import type { Button, KnownBlock } from '@slack/types';
import type { AccessRequest } from '../../domain/access-request.js';
import type { Delivery } from '../../domain/ports.js';
import { escapeMrkdwn, mrkdwn, plainText, slackDate } from '../mrkdwn.js';
import { ActionId } from './request-message.js';

export function deliveryText(request: AccessRequest, delivery: Delivery): string {
  return `Access granted: ${escapeMrkdwn(request.templateName)} on ${escapeMrkdwn(request.accountName)} until ${delivery.expiresAt.toISOString()} (request ${request.id}).`;
}

export function deliveryBlocks(request: AccessRequest, delivery: Delivery): KnownBlock[] {
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: mrkdwn(
        `:white_check_mark: *Access granted*: *${escapeMrkdwn(request.templateName)}* on ${escapeMrkdwn(request.accountName)} (\`${delivery.accountId}\`) until ${slackDate(delivery.expiresAt.getTime())}.\nRole \`${escapeMrkdwn(delivery.roleArn)}\``,
      ),
    },
  ];
  const link = delivery.mode === 'assume' ? delivery.switchRoleUrl : delivery.consoleSignInUrl;
  const buttons: Button[] = [];
  if (link) {
    buttons.push({
      type: 'button',
      action_id: 'delivery_console',
      text: plainText(delivery.mode === 'assume' ? 'Switch role in the console' : 'Open the console'),
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
    blocks.push({
      type: 'section',
      text: mrkdwn(
        `${delivery.mode === 'assume' ? 'AWS CLI profile' : 'Shell exports (keep them private)'}:\n\`\`\`${snippet}\`\`\``,
      ),
    });
  }
  blocks.push({
    type: 'context',
    elements: [mrkdwn(`Request \`${request.id}\` · \`/aws-access revoke ${request.id}\` ends it early.`)],
  });
  return blocks;
}
