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

export function plainText(text: string, max = 3000): { type: 'plain_text'; text: string; emoji: false } {
  const clipped = text.length > max ? `${text.slice(0, max - 1)}…` : text;
  return { type: 'plain_text', text: clipped || ' ', emoji: false };
}

export function mrkdwn(text: string): { type: 'mrkdwn'; text: string } {
  return { type: 'mrkdwn', text: text.length > 3000 ? `${text.slice(0, 2999)}…` : text };
}

/** A mention we build ourselves from an id Slack gave us (never from user text). */
export function mention(userId: string): string {
  return /^[UW][A-Z0-9]+$/.test(userId) ? `<@${userId}>` : escapeMrkdwn(userId);
}

export function slackDate(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  return `<!date^${seconds}^{date_short_pretty} {time}|${new Date(ms).toISOString()}>`;
}
