/**
 * Every Block Kit builder, fed the longest inputs the bot can meet, stays within Slack's limits:
 * what Slack would reject is clipped or capped by the builder instead. The notifiers are driven
 * through a recording Slack client, so what is checked is exactly what would be posted.
 */
import type { WebClient } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { HELP_TEXT } from '../../../src/slack/listeners/commands/aws-access.js';
import { SlackHygieneNotifier } from '../../../src/slack/hygiene/notifier.js';
import { snoozedMessage } from '../../../src/slack/hygiene/messages.js';
import { SlackAuditChannel } from '../../../src/slack/slack-audit-channel.js';
import { SlackNotifier } from '../../../src/slack/slack-notifier.js';
import { appHomeView } from '../../../src/slack/views/app-home.js';
import { deliveryBlocks, deliveryText } from '../../../src/slack/views/delivery-message.js';
import {
  accountOptions,
  denyModal,
  extendModal,
  requestModal,
} from '../../../src/slack/views/request-modal.js';
import { listText, statusText, templatesText } from '../../../src/slack/views/request-text.js';
import {
  messageProblems,
  optionsProblems,
  viewProblems,
  type MessageLike,
} from './support/block-kit-limits.js';
import {
  accountNames,
  manyRequests,
  REQUEST_ID,
  worstAccounts,
  worstAuditEvent,
  worstDelivery,
  worstDigest,
  worstFindings,
  worstRequest,
  worstRule,
  worstTemplate,
} from './support/worst-case.js';

/** A Slack client that records every message it is asked to post or update. */
function recordingClient(): { client: WebClient; sent: Array<MessageLike & { method: string }> } {
  const sent: Array<MessageLike & { method: string }> = [];
  const record = (method: string) => async (args: MessageLike) => {
    sent.push({ method, ...args });
    return { ok: true, channel: 'C0000000001', ts: '1700000000.000300' };
  };
  const client = {
    chat: { postMessage: record('chat.postMessage'), update: record('chat.update') },
  } as unknown as WebClient;
  return { client, sent };
}

function expectWithinLimits(sent: Array<MessageLike & { method: string }>): void {
  expect(sent.length).toBeGreaterThan(0);
  for (const [i, message] of sent.entries()) {
    expect(messageProblems(message), `${message.method} #${i}: ${message.text?.slice(0, 80)}`).toEqual([]);
  }
}

const templates = Array.from({ length: 300 }, (_, i) => ({
  ...worstTemplate,
  name: `${worstTemplate.name.slice(0, 44)}${i}`,
}));
const limits = { min: 900, max: 43_200, maxExtensions: 5, maxTotal: 86_400 };

describe('request notifier messages with worst-case inputs', () => {
  const catalog = { list: () => templates, get: () => worstTemplate };
  const states = ['pending', 'active', 'denied', 'revoke-failed'] as const;

  it('the approver message, its redraws and the break-glass review stay within the limits', async () => {
    const { client, sent } = recordingClient();
    const notifier = new SlackNotifier(client, { approvals: 'C1', security: 'C2' }, catalog, () => worstRule);
    for (const state of states) {
      const request = worstRequest({ state });
      await notifier.approvalRequested(request, worstRule);
      await notifier.requestChanged(request, `note ${'n'.repeat(3000)}`);
      await notifier.breakGlass(worstRequest({ state, breakGlass: true, reviewedBy: undefined }), worstRule);
      await notifier.breakGlassReviewed(worstRequest({ state, breakGlass: true }));
    }
    expectWithinLimits(sent);
  });

  it('requester DMs, deliveries with a long CLI profile or credentials, expiry warnings and extensions', async () => {
    const { client, sent } = recordingClient();
    const notifier = new SlackNotifier(client, { approvals: 'C1', security: 'C2' }, catalog, () => worstRule);
    const request = worstRequest({ state: 'denied' });
    await notifier.toRequester(
      request,
      `Denied by <@U0DECIDER00>: ${request.templateName} ${'w'.repeat(5000)}`,
    );
    await notifier.delivered(request, worstDelivery('assume'));
    await notifier.delivered(request, worstDelivery('credentials'));
    await notifier.delivered(request, worstDelivery('credentials', 5000));
    await notifier.expiryWarning(request, { maxSeconds: 3600, needsApproval: true });
    await notifier.expiryWarning(request, { maxSeconds: 0, needsApproval: false, reason: 'r'.repeat(5000) });
    await notifier.extensionRequested(request, worstRule);
    await notifier.extensionChanged(request, request.pendingExtension!, `note ${'n'.repeat(3000)}`);
    expectWithinLimits(sent);
  });

  it('reminders, escalations and security alerts', async () => {
    const { client, sent } = recordingClient();
    const notifier = new SlackNotifier(client, { approvals: 'C1', security: 'C2' }, catalog, () => worstRule);
    const request = worstRequest();
    await notifier.remind(request, worstRule);
    await notifier.escalate(request, worstRule);
    await notifier.alertSecurity(`Revocation failed: ${request.failure}`, request);
    expectWithinLimits(sent);
  });

  it('a credentials delivery keeps the whole session token, split over code sections', () => {
    const delivery = worstDelivery('credentials');
    const text = JSON.stringify(deliveryBlocks(worstRequest(), delivery));
    for (const line of delivery.envExports!.split('\n')) expect(text).toContain(line);
    expect(
      messageProblems({
        text: deliveryText(worstRequest(), delivery),
        blocks: deliveryBlocks(worstRequest(), delivery),
      }),
    ).toEqual([]);
  });

  it('a sign-in URL longer than a button allows is left out, not sent for Slack to reject', () => {
    const blocks = JSON.stringify(deliveryBlocks(worstRequest(), worstDelivery('credentials', 5000)));
    expect(blocks).not.toContain('SigninToken');
    expect(blocks).toContain('sign-in link is unavailable');
  });
});

describe('views with worst-case inputs', () => {
  it('App Home with 50 grants, 50 pending, 100 waiting and 100 reviews stays within 100 blocks', () => {
    const view = appHomeView({
      active: manyRequests(50, { state: 'active' }),
      pending: manyRequests(50),
      waiting: manyRequests(100),
      reviews: manyRequests(100, { breakGlass: true, state: 'active' }),
    });
    expect(viewProblems(view as never)).toEqual([]);
    const json = JSON.stringify(view);
    expect(json).toContain('…and 40 more. `/aws-access list` shows all of yours.');
    expect(json).toContain('…and 180 more waiting for you');
  });

  it('the request modal with 300 templates, before and after one is picked', () => {
    const input = { templates, limits, defaultDuration: 3600 };
    expect(viewProblems(requestModal(input) as never)).toEqual([]);
    expect(viewProblems(requestModal({ ...input, selectedTemplate: worstTemplate }) as never)).toEqual([]);
  });

  it('the deny and extend forms, and the account type-ahead over 500 long-named accounts', () => {
    expect(viewProblems(denyModal(REQUEST_ID) as never)).toEqual([]);
    expect(viewProblems(extendModal(REQUEST_ID, [900, 1800, 3600, 43_200]) as never)).toEqual([]);
    expect(optionsProblems(accountOptions(worstAccounts(500), ''))).toEqual([]);
  });
});

describe('command answers with worst-case inputs', () => {
  it('list, status, templates and help stay within the limit on a message text', () => {
    const list = listText({
      active: manyRequests(25, { state: 'active' }),
      pending: manyRequests(25),
      recent: manyRequests(5, { state: 'denied' }),
    });
    for (const text of [list, statusText(worstRequest()), templatesText(templates.slice(0, 20)), HELP_TEXT]) {
      expect(messageProblems({ text })).toEqual([]);
    }
  });
});

describe('hygiene and audit posts with worst-case inputs', () => {
  const options = {
    securityChannel: 'C2',
    accountNames,
    rotationDays: 90,
    unusedKeyDays: 90,
    escalateAfterDays: 14,
  };

  it('reminders, warnings, escalations, unowned findings and the digest with hundreds of findings', async () => {
    const { client, sent } = recordingClient();
    const notifier = new SlackHygieneNotifier(client, options);
    const findings = worstFindings(500);
    const account = [...accountNames.keys()][0]!;
    await notifier.unownedFindings(account, findings);
    await notifier.unownedFindings('999999999999', findings);
    await notifier.enforcementWarning(undefined, findings, new Date(0));
    await notifier.enforcementWarning('U0OWNER0000', findings, new Date(0));
    await notifier.keysDeactivated(undefined, findings);
    await notifier.rotationReminder('U0OWNER0000', 'reminder-1', findings);
    await notifier.escalation(findings);
    await notifier.digest(worstDigest());
    expectWithinLimits(sent);
    expectWithinLimits([{ method: 'chat.update', ...snoozedMessage(500, new Date(0), 'U0OWNER0000') }]);
  });

  it('an audit batch of 40 events (the batch job page) with long reasons', async () => {
    const { client, sent } = recordingClient();
    await new SlackAuditChannel(client, 'C3').post(
      Array.from({ length: 40 }, (_, i) => ({ id: `1700000000000-${i}`, event: worstAuditEvent(i) })),
    );
    expectWithinLimits(sent);
  });
});
