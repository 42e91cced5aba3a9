import type { KnownBlock } from '@slack/types';
import { mrkdwn } from '../mrkdwn.js';

/**
 * The blocks of as many items as fit in `budget` blocks, then one "…and N more" context line
 * (counted in the budget) for the rest: Slack rejects a message or view with too many blocks.
 */
export function cappedList(
  items: KnownBlock[][],
  budget: number,
  more: (rest: number) => string,
): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  for (const [i, item] of items.entries()) {
    const reserve = i < items.length - 1 ? 1 : 0;
    if (blocks.length + item.length + reserve > budget) {
      blocks.push({ type: 'context', elements: [mrkdwn(more(items.length - i))] });
      return blocks;
    }
    blocks.push(...item);
  }
  return blocks;
}
