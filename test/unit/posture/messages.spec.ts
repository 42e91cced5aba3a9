import { describe, expect, it } from 'vitest';
import { ownerFindingsMessage } from '../../../src/slack/posture/messages.js';

describe('posture messages', () => {
  it('keep the `*` of IAM wildcards literal, say what to do, and carry the Accept-risk button', () => {
    const message = ownerFindingsMessage(
      'm1',
      [
        {
          id: 'w',
          kind: 'wildcard-policy',
          accountId: '111111111111',
          arn: 'arn:aws:iam::111111111111:policy/p',
          detail: 'customer-managed policy p allows *, s3:* on Resource *',
        },
      ],
      new Map(),
    );
    const blocks = JSON.stringify(message.blocks);
    expect(blocks).toContain(
      'allows *\\u200b, s3:*\\u200b on Resource *\\u200b'.replace(/\\u200b/g, '\u200B'),
    );
    expect(blocks).toContain('What to do: name the actions and resources the workload needs instead of `*`');
    expect(message.blocks.at(-1)).toMatchObject({
      type: 'actions',
      elements: [{ action_id: 'posture_accept_risk', value: 'm1' }],
    });
  });
});
