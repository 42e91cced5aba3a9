import { describe, expect, it } from 'vitest';
import {
  ROTATION_STEPS,
  rotationReminderMessage,
  SNOOZE_ACTION_ID,
  unownedFindingsMessage,
} from '../../../src/slack/hygiene/messages.js';
import type { Finding } from '../../../src/domain/hygiene/types.js';

const evil: Finding = {
  id: 'f1',
  kind: 'key-past-rotation',
  accountId: '111111111111',
  userName: 'x<!channel>&y',
  detail: 'access key 1 is 100 days old (rotate every 90)',
  key: { slot: 1, createdAt: '2026-01-01T00:00:00.000Z', neverUsed: true },
  owner: { kind: 'unowned', reason: 'tag slack-user="<@U1>" is not a Slack user id' },
};

describe('hygiene Block Kit', () => {
  it('a reminder lists the keys, the rotation steps and a Snooze button carrying the reminder id', () => {
    const m = rotationReminderMessage({
      reminderId: 'r-1',
      findings: [evil],
      accountNames: new Map([['111111111111', 'production']]),
      rotationDays: 90,
      snoozeDays: 7,
    });
    const json = JSON.stringify(m.blocks);
    expect(json).toContain('production (111111111111)');
    expect(json).toContain('delete-access-key');
    const actions = m.blocks.find((b) => b.type === 'actions') as {
      elements: Array<{ action_id: string; value: string; text: { text: string } }>;
    };
    expect(actions.elements[0]).toMatchObject({
      action_id: SNOOZE_ACTION_ID,
      value: 'r-1',
      text: { text: 'Snooze 7 days' },
    });
  });
  it('escapes IAM names and tag values so they cannot mention or link', () => {
    const json = JSON.stringify(unownedFindingsMessage('111111111111', [evil], new Map()).blocks);
    expect(json).not.toContain('<!channel>');
    expect(json).not.toContain('<@U1>');
    expect(json).toContain('x&lt;!channel&gt;&amp;y');
  });
  it('keeps long lists under Slack limits', () => {
    const many = Array.from({ length: 400 }, (_, i) => ({
      ...evil,
      id: `f${i}`,
      userName: `user-${i}-${'x'.repeat(40)}`,
    }));
    const m = rotationReminderMessage({
      reminderId: 'r',
      findings: many,
      accountNames: new Map(),
      rotationDays: 90,
      snoozeDays: 7,
    });
    expect(m.blocks.length).toBeLessThanOrEqual(50);
    for (const b of m.blocks) if (b.type === 'section') expect(b.text!.text.length).toBeLessThanOrEqual(3000);
  });

  it('writes rotation steps without angle brackets, which Slack would turn into links', () => {
    for (const step of ROTATION_STEPS) expect(step).not.toMatch(/[<>]/);
  });
});
