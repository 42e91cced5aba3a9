import { describe, expect, it } from 'vitest';
import { renderMessage, renderMrkdwn, type Names } from '../../../demo/block-kit-text.js';
import { requestMessageBlocks } from '../../../src/slack/views/request-message.js';
import type { AccessRequest } from '../../../src/domain/access-request.js';

const names: Names = {
  users: new Map([
    ['U0ALICE', 'alice'],
    ['U0BOB', 'bob'],
  ]),
  channels: new Map([['C0APPR', 'aws-approvals']]),
  groups: new Map([['S0PLAT', 'platform-oncall']]),
};

describe('the demo renders Slack messages as a person reads them', () => {
  it('shows mentions, channels, groups, links and dates by name, and escaped text literally', () => {
    const text = renderMrkdwn(
      '*Hi* <@U0ALICE>, see <#C0APPR> and <!subteam^S0PLAT>: <https://x.example/a|the link> until <!date^1700000000^{date_short_pretty}|x> &lt;b&gt; s3:Get* :white_check_mark:',
      names,
    );
    expect(text).toBe(
      'Hi @alice, see #aws-approvals and @platform-oncall: the link (https://x.example/a) until 2023-11-14 22:13:20 UTC <b> s3:Get* ✅',
    );
  });

  it('renders the real approver message: header, fields as label: value, reason as plain text, buttons', () => {
    const request = {
      id: 'r-1',
      state: 'pending',
      requesterId: 'U0ALICE',
      accountId: '222222222222',
      accountName: 'sandbox',
      ouPath: [],
      templateName: 'readonly',
      durationSeconds: 60,
      reason: 'INC-1 <@U0BOB> *not bold*',
      ruleName: 'sandbox',
      approvalsRequired: 2,
      approvals: [{ approverId: 'U0BOB', at: 0 }],
      breakGlass: false,
      extensions: 0,
    } as unknown as AccessRequest;
    const text = renderMessage(
      { blocks: requestMessageBlocks(request, { rule: undefined, template: undefined }) },
      names,
    );
    expect(text).toContain('AWS access request r-1');
    expect(text).toContain('@alice asks for readonly on sandbox (`222222222222`)');
    expect(text).toContain('Duration: 1m');
    expect(text).toContain('Approvals: 1 of 2 (@bob)');
    // The reason is plain_text: Slack shows it exactly as typed, so must the transcript.
    expect(text).toContain('INC-1 <@U0BOB> *not bold*');
    expect(text).toContain('[ Approve ]  [ Deny ]');
  });

  it('shows the text of a message without blocks, and a URL button with its target', () => {
    expect(renderMessage({ text: 'hello <@U0BOB>' }, names)).toBe('hello @bob');
    const withLink = renderMessage(
      {
        blocks: [
          {
            type: 'actions',
            elements: [
              { type: 'button', text: { type: 'plain_text', text: 'Open' }, url: 'https://a.example' },
            ],
          },
        ],
      },
      names,
    );
    expect(withLink).toBe('[ Open ] → https://a.example');
  });
});
