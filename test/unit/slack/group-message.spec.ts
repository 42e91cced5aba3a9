/**
 * The multi-account views with the longest inputs the bot can meet: the approvers' message for
 * the most accounts a request may cover, and the grants DM in both delivery modes, stay within
 * Slack's limits (a DM past 50 blocks continues in another message, never dropping a grant).
 */
import { describe, expect, it } from 'vitest';
import type { AccessRequest } from '../../../src/domain/access-request.js';
import type { GroupView } from '../../../src/domain/request-group.js';
import {
  groupCreatedText,
  groupDeliveryMessages,
  groupMessageBlocks,
  groupStatusText,
} from '../../../src/slack/views/group-message.js';
import { requestLine } from '../../../src/slack/views/request-text.js';
import { messageProblems } from './support/block-kit-limits.js';
import { worstDelivery, worstRequest, worstRule, worstTemplate } from './support/worst-case.js';

function worstGroup(n: number, over: Partial<AccessRequest> = {}): GroupView {
  const members = Array.from({ length: n }, (_, i) =>
    worstRequest({
      id: `r-0123456789-${i + 1}`,
      accountId: String(100000000000 + i),
      groupId: 'g-0123456789',
      ruleName: `${worstRule.name}-${i % 12}`,
      ...over,
    }),
  );
  return {
    group: {
      id: 'g-0123456789',
      requesterId: 'U0REQUESTER',
      memberIds: members.map((m) => m.id),
      createdAt: 1_700_000_000_000,
      message: { channel: 'C0000000001', ts: '1.000' },
    },
    members,
  };
}

describe('multi-account views with worst-case inputs', () => {
  it('the approvers message for 100 accounts, pending and denied', () => {
    for (const state of ['pending', 'denied'] as const) {
      const view = worstGroup(100, { state });
      const blocks = groupMessageBlocks(view, {
        ruleByName: () => worstRule,
        template: worstTemplate,
        note: 'x'.repeat(5000),
      });
      expect(messageProblems({ text: 'headline', blocks })).toEqual([]);
      const text = JSON.stringify(blocks);
      // Whole lines only: what does not fit is counted and pointed to `status`.
      expect(text).toContain('100000000000');
      expect(text).toMatch(/more accounts: `\/aws-access status g-0123456789` lists them all/);
      expect(text.includes('group_approve')).toBe(state === 'pending');
    }
  });

  it('the approvers message for 20 accounts (the default limit) names every one of them', () => {
    const view = worstGroup(20);
    const blocks = groupMessageBlocks(view, { ruleByName: () => worstRule, template: worstTemplate });
    expect(messageProblems({ text: 'headline', blocks })).toEqual([]);
    const text = JSON.stringify(blocks);
    for (const m of view.members) expect(text).toContain(m.id);
    expect(text).not.toContain('more accounts');
  });

  it('the grants DM for 100 accounts in both modes: every grant, every message within limits', () => {
    for (const mode of ['assume', 'credentials'] as const) {
      const view = worstGroup(100, { state: 'active' });
      const grants = view.members.map((request) => ({ request, delivery: worstDelivery(mode) }));
      const messages = groupDeliveryMessages(view, grants);
      for (const m of messages) expect(messageProblems(m)).toEqual([]);
      const all = JSON.stringify(messages);
      for (const r of view.members) expect(all).toContain(`"value":"${r.id}"`);
      expect(all).toContain('"action_id":"group_revoke"');
    }
  });

  it('the status and intake texts name every account', () => {
    const view = worstGroup(3);
    // A headline, then one line per account, each followed by what its SCPs take away.
    const lines = groupStatusText(view).split('\n');
    expect(lines.filter((l) => !l.startsWith(' '))).toHaveLength(4);
    expect(lines.filter((l) => l.trimStart().startsWith('↳ SCPs leave'))).toHaveLength(3);
    expect(groupCreatedText(view)).toContain('for 3 accounts');
    // `list` shows each account with the request it belongs to.
    expect(requestLine(view.members[1]!)).toMatch(/^`r-0123456789-2` \(request `g-0123456789`\)/);
  });
});

describe('the approvers message note', () => {
  it('escapes an Organizations account name in the note (a member expired, cancelled, approved), keeping our mentions', () => {
    const view = worstGroup(2);
    // groupMemberChanged / accountCancelled / approveGroup compose notes with account names.
    const note = '<@U0APPROVER> approved (<!channel> *prod* <https://evil.example|click>)';
    const blocks = groupMessageBlocks(view, { ruleByName: () => worstRule, template: worstTemplate, note });
    const context = JSON.stringify(blocks.filter((b) => b.type === 'context'));
    expect(context).toContain('<@U0APPROVER> approved');
    expect(context).not.toContain('<!channel>');
    expect(context).not.toContain('<https://evil.example|click>');
    expect(context).toContain('&lt;!channel&gt;');
  });
});
