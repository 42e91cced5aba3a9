import { describe, expect, it } from 'vitest';
import { changeAlertsMessage } from '../../../src/slack/posture/change-alerts.js';

describe('the change-alert post', () => {
  it('escapes what CloudTrail recorded, so a refused call cannot mention @channel', () => {
    const message = changeAlertsMessage(
      [
        {
          eventId: 'e1',
          accountId: '111111111111',
          at: '2026-11-30T10:15:30Z',
          text: 'IAM user x tried: created IAM user <!channel> — refused: ValidationError',
          accessPath: false,
        },
      ],
      new Map([['111111111111', 'production']]),
    );
    expect(message.text).toBe(
      'IAM change in production (111111111111): IAM user x tried: created IAM user &lt;!channel&gt; — refused: ValidationError',
    );
    expect(JSON.stringify(message.blocks)).not.toContain('<!channel>');
  });
});
