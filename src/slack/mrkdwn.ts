/**
 * User text in Slack: wherever possible it goes into `plain_text` objects, which Slack never
 * parses. Where it must sit in mrkdwn (fallback text, mixed sections) `escapeMrkdwn` makes it
 * inert: &, < and > are escaped (no `<!channel>`, `<@U…>` or `<http://x|y>`), and formatting
 * characters get a zero-width space after them so `*bold*` stays literal.
 */
const FORMATTING = /([*_~`])/g;

export function escapeMrkdwn(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(FORMATTING, '$1\u200B');
}

const OUR_MENTION = /(<@[UW][A-Z0-9]+>)/;

/**
 * For texts the bot composes (requester DMs) that hold both names from config or Organizations
 * and mentions it built with `mention()`: everything but those mentions is escaped.
 */
export function escapeMrkdwnKeepingMentions(text: string): string {
  return text
    .split(OUR_MENTION)
    .map((part, i) => (i % 2 === 1 ? part : escapeMrkdwn(part)))
    .join('');
}

/**
 * Slack's limits on what we send, in characters (`String.length` counts UTF-16 units, never
 * fewer than Slack counts). Longer text is clipped with {@link clip}; longer lists are capped by
 * their builder with an "and N more" line.
 */
export const SlackLimit = {
  messageBlocks: 50,
  viewBlocks: 100,
  /** chat.postMessage truncates `text` beyond this. */
  messageText: 40_000,
  text: 3000,
  sectionField: 2000,
  headerText: 150,
  buttonText: 75,
  buttonValue: 2000,
  url: 3000,
  optionText: 75,
} as const;

const ELLIPSIS = '…';
/**
 * An entity (`&amp;`) or a token we build (`<@U…>`, `<#C…>`, `<!subteam^…>`, `<!date^…|…>`)
 * left open at the end of the kept text: cut before it rather than through it.
 */
const OPEN_AT_END = /(?:&[a-z]{0,5}|<(?:[@#!]|https?:)[^<>]{0,200})$/i;

/**
 * The one way text is shortened for Slack: at most `max` characters, ending in `…` when
 * clipped, never through a surrogate pair, an mrkdwn escape or a mention/date token.
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - ELLIPSIS.length);
  const open = OPEN_AT_END.exec(text.slice(0, end));
  if (open) end = open.index;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}${ELLIPSIS}`;
}

export function plainText(
  text: string,
  max: number = SlackLimit.text,
): { type: 'plain_text'; text: string; emoji: false } {
  return { type: 'plain_text', text: clip(text, max) || ' ', emoji: false };
}

export function mrkdwn(text: string, max: number = SlackLimit.text): { type: 'mrkdwn'; text: string } {
  return { type: 'mrkdwn', text: clip(text, max) };
}

/** A mention we build ourselves from an id Slack gave us (never from user text). */
export function mention(userId: string): string {
  return /^[UW][A-Z0-9]+$/.test(userId) ? `<@${userId}>` : escapeMrkdwn(userId);
}

export function slackDate(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  return `<!date^${seconds}^{date_short_pretty} {time}|${new Date(ms).toISOString()}>`;
}
