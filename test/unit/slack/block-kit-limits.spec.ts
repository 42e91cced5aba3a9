import { describe, expect, it } from 'vitest';
import { clip, mrkdwn, plainText } from '../../../src/slack/mrkdwn.js';
import { messageProblems, optionsProblems, viewProblems } from './support/block-kit-limits.js';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });

describe('the Block Kit limits checker', () => {
  it('passes a message within the limits', () => {
    expect(messageProblems({ text: 'hi', blocks: [section('x'.repeat(3000))] })).toEqual([]);
  });

  it('fails each limit that is exceeded, naming where', () => {
    const tooLong = messageProblems({
      text: 'fallback',
      blocks: [
        section('x'.repeat(3001)),
        { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } },
        {
          type: 'section',
          fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f'.repeat(2001) })),
        },
        {
          type: 'actions',
          elements: [
            {
              type: 'button',
              action_id: 'a',
              text: { type: 'plain_text', text: 'b'.repeat(76) },
              value: 'v'.repeat(2001),
            },
          ],
        },
      ],
    });
    expect(tooLong).toEqual(
      expect.arrayContaining([
        'blocks[0].text: 3001 characters, limit 3000',
        'blocks[1].text: 151 characters, limit 150',
        'blocks[2].fields: 11 items, limit 10',
        'blocks[2].fields[0]: 2001 characters, limit 2000',
        'blocks[3].elements[0].text: 76 characters, limit 75',
        'blocks[3].elements[0].value: 2001 characters, limit 2000',
      ]),
    );
  });

  it('fails a message with more than 50 blocks, a view with more than 100, and a missing fallback text', () => {
    const blocks = (n: number) => Array.from({ length: n }, () => ({ type: 'divider' }));
    expect(messageProblems({ text: 'x', blocks: blocks(50) })).toEqual([]);
    expect(messageProblems({ text: 'x', blocks: blocks(51) })).toEqual(['blocks: 51 items, limit 50']);
    expect(messageProblems({ blocks: blocks(1) })).toEqual(['text: the fallback text is missing']);
    expect(viewProblems({ type: 'home', blocks: blocks(100) })).toEqual([]);
    expect(viewProblems({ type: 'home', blocks: blocks(101) })).toEqual(['blocks: 101 items, limit 100']);
  });

  it('fails a modal title over 24 characters, a long option, an unknown block and an empty text', () => {
    expect(
      viewProblems({ type: 'modal', title: { type: 'plain_text', text: 't'.repeat(25) }, blocks: [] }),
    ).toEqual(['title: 25 characters, limit 24']);
    expect(optionsProblems([{ text: { type: 'plain_text', text: 'o'.repeat(76) }, value: 'v' }])).toEqual([
      'options[0].text: 76 characters, limit 75',
    ]);
    expect(messageProblems({ text: 'x', blocks: [{ type: 'video' }, section('')] })).toEqual([
      'blocks[0]: block type video is not checked',
      'blocks[1].text: empty text',
    ]);
  });
});

describe('clip: the one way text is shortened for Slack', () => {
  it('leaves text within the limit as it is', () => {
    expect(clip('exactly ten', 11)).toBe('exactly ten');
    expect(plainText('Approve').text).toBe('Approve');
  });

  it('cuts to the limit and ends with an ellipsis', () => {
    expect(clip('abcdefghij', 5)).toBe('abcd…');
    expect(mrkdwn('x'.repeat(5000)).text).toHaveLength(3000);
    expect(plainText('y'.repeat(200), 150).text).toBe(`${'y'.repeat(149)}…`);
  });

  it('never splits a surrogate pair', () => {
    const clipped = clip('ab😀😀😀', 4);
    expect(clipped).toBe('ab…');
    expect(clipped).not.toMatch(LONE_SURROGATE);
    for (let max = 1; max < 30; max++) expect(clip('😀'.repeat(20), max)).not.toMatch(LONE_SURROGATE);
  });

  it('never cuts through an mrkdwn escape or a mention or date token', () => {
    expect(clip('ab &amp; cd', 6)).toBe('ab …');
    expect(clip('ab &lt;x', 7)).toBe('ab …');
    expect(clip('hi <@U012ABCDEF> there', 10)).toBe('hi …');
    expect(clip('at <!date^1700000000^{date_short_pretty} {time}|2023-11-14T22:13:20Z> ok', 30)).toBe('at …');
    // A closed token or escape before the cut is kept.
    expect(clip('<@U012ABCDEF> &amp; then more text', 21)).toBe('<@U012ABCDEF> &amp; …');
  });
});
