/**
 * Renders Slack messages (Block Kit and mrkdwn) as terminal text, the way a person would read
 * them in the Slack client: mentions and channel links as names, dates as dates, buttons as
 * `[ Approve ]`. Only what the bot actually sends needs to look right; anything unknown is
 * shown by its type rather than dropped, so nothing the bot sends is hidden from the transcript.
 */

export interface Names {
  /** Slack user id → display name (without @). */
  users: ReadonlyMap<string, string>;
  /** Channel id → name (without #). */
  channels: ReadonlyMap<string, string>;
  /** User-group id → handle (without @). */
  groups: ReadonlyMap<string, string>;
}

const EMOJI: Record<string, string> = {
  white_check_mark: '✅',
  large_green_circle: '🟢',
  hourglass_flowing_sand: '⏳',
  no_entry_sign: '🚫',
  x: '❌',
  heavy_minus_sign: '➖',
  alarm_clock: '⏰',
  warning: '⚠️',
  rotating_light: '🚨',
  key: '🔑',
  lock: '🔒',
  bell: '🔔',
  clock1: '🕐',
  zzz: '💤',
  mag: '🔍',
  bar_chart: '📊',
  shield: '🛡️',
  hourglass: '⌛',
  information_source: 'ℹ️',
  arrows_counterclockwise: '🔄',
};

function formatDate(seconds: number): string {
  return `${new Date(seconds * 1000).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
}

/** One `<…>` control sequence of mrkdwn, as the Slack client displays it. */
function renderControl(inner: string, names: Names): string {
  const [target = '', label] = splitOnce(inner, '|');
  if (target.startsWith('@')) {
    const id = target.slice(1);
    return `@${label ?? names.users.get(id) ?? id}`;
  }
  if (target.startsWith('#')) {
    const id = target.slice(1);
    return `#${label ?? names.channels.get(id) ?? id}`;
  }
  if (target.startsWith('!subteam^')) {
    const id = target.slice('!subteam^'.length);
    return label ? (label.startsWith('@') ? label : `@${label}`) : `@${names.groups.get(id) ?? id}`;
  }
  if (target.startsWith('!date^')) {
    const seconds = Number(target.split('^')[1]);
    return Number.isFinite(seconds) ? formatDate(seconds) : (label ?? target);
  }
  if (target === '!here' || target === '!channel' || target === '!everyone') return `@${target.slice(1)}`;
  if (label && label !== target) return `${label} (${target})`;
  return target;
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

function decodeEntities(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** mrkdwn → the text a reader sees (bold and italic markers dropped, code kept in backticks). */
export function renderMrkdwn(text: string, names: Names): string {
  let out = text.replace(/<([^<>\n]+)>/g, (_, inner: string) => renderControl(inner, names));
  out = out.replace(/:([a-z0-9_+-]+):/g, (whole, name: string) => EMOJI[name] ?? whole);
  // Code blocks become indented lines.
  out = out.replace(
    /```\n?([\s\S]*?)\n?```/g,
    (_, code: string) =>
      `\n${code
        .split('\n')
        .map((line) => `    ${line}`)
        .join('\n')}\n`,
  );
  // *bold* and _italic_ only at word boundaries, so `s3:Get*` or `aws_access` stay intact.
  out = out.replace(/(^|[\s(["'•])\*([^*\n]+?)\*(?=$|[\s.,:;!?)\]'"·])/gm, '$1$2');
  out = out.replace(/(^|[\s(["'•])_([^_\n]+?)_(?=$|[\s.,:;!?)\]'"·])/gm, '$1$2');
  out = decodeEntities(out).replace(/\u200B/g, '');
  return out.replace(/\n{3,}/g, '\n\n').trim();
}

interface TextObject {
  type?: string;
  text?: string;
}

function renderTextObject(value: unknown, names: Names): string {
  const t = value as TextObject | undefined;
  if (!t || typeof t.text !== 'string') return '';
  return t.type === 'mrkdwn' ? renderMrkdwn(t.text, names) : t.text;
}

type Element = Record<string, unknown>;

function renderElement(element: Element, names: Names): string {
  switch (element.type) {
    case 'button': {
      const label = `[ ${renderTextObject(element.text, names)} ]`;
      return typeof element.url === 'string' ? `${label} → ${element.url}` : label;
    }
    case 'static_select':
    case 'external_select':
    case 'users_select':
    case 'conversations_select':
    case 'channels_select':
    case 'overflow': {
      const chosen = (element.initial_option as { text?: unknown } | undefined)?.text;
      return `[ ${renderTextObject(chosen ?? element.placeholder, names) || 'choose'} ▾ ]`;
    }
    case 'plain_text_input':
      return `[ ${renderTextObject(element.placeholder, names) || '…'} ]`;
    case 'image':
      return `[image: ${String(element.alt_text ?? '')}]`;
    case 'mrkdwn':
    case 'plain_text':
      return renderTextObject(element, names);
    default:
      return `[${String(element.type)}]`;
  }
}

/** rich_text blocks: the text of every leaf, in order. */
function richText(node: unknown, names: Names): string {
  if (!node || typeof node !== 'object') return '';
  const n = node as Record<string, unknown>;
  switch (n.type) {
    case 'text':
      return String(n.text ?? '');
    case 'link':
      return n.text ? `${String(n.text)} (${String(n.url)})` : String(n.url ?? '');
    case 'user':
      return `@${names.users.get(String(n.user_id)) ?? String(n.user_id)}`;
    case 'channel':
      return `#${names.channels.get(String(n.channel_id)) ?? String(n.channel_id)}`;
    case 'emoji':
      return EMOJI[String(n.name)] ?? `:${String(n.name)}:`;
    default:
      return Array.isArray(n.elements) ? n.elements.map((e) => richText(e, names)).join('') : '';
  }
}

/** Bold field labels (`*Duration*\n1m`) read best as `Duration: 1m`. */
function renderField(field: unknown, names: Names): string {
  const text = renderTextObject(field, names);
  const [label, rest] = splitOnce(text, '\n');
  return rest === undefined ? text : `${label}: ${rest.replace(/\n/g, ', ')}`;
}

function renderBlock(block: Record<string, unknown>, names: Names): string[] {
  switch (block.type) {
    case 'header': {
      const text = renderTextObject(block.text, names);
      return [text, '─'.repeat(Math.min(text.length, 60))];
    }
    case 'section': {
      const lines: string[] = [];
      const text = renderTextObject(block.text, names);
      if (text) lines.push(text);
      if (Array.isArray(block.fields)) {
        const fields = block.fields.map((f) => renderField(f, names));
        for (let i = 0; i < fields.length; i += 2) lines.push(fields.slice(i, i + 2).join('   ·   '));
      }
      if (block.accessory) lines.push(renderElement(block.accessory as Element, names));
      return lines;
    }
    case 'context': {
      const elements = Array.isArray(block.elements) ? (block.elements as Element[]) : [];
      return [
        elements
          .map((e) => renderElement(e, names))
          .join('  ')
          .split('\n')
          .map((line) => `› ${line}`)
          .join('\n'),
      ];
    }
    case 'actions': {
      const elements = Array.isArray(block.elements) ? (block.elements as Element[]) : [];
      return [elements.map((e) => renderElement(e, names)).join('  ')];
    }
    case 'divider':
      return ['─'.repeat(40)];
    case 'image':
      return [renderElement(block as Element, names)];
    case 'input': {
      const label = renderTextObject(block.label, names);
      return [`${label}: ${block.element ? renderElement(block.element as Element, names) : ''}`];
    }
    case 'rich_text':
      return [richText(block, names)];
    default:
      return [`[${String(block.type)} block]`];
  }
}

/** The whole message: its blocks if it has any (that is what Slack shows), else its text. */
export function renderMessage(message: { text?: unknown; blocks?: unknown }, names: Names): string {
  const blocks = Array.isArray(message.blocks) ? (message.blocks as Array<Record<string, unknown>>) : [];
  if (blocks.length === 0) return typeof message.text === 'string' ? renderMrkdwn(message.text, names) : '';
  return blocks
    .flatMap((b) => renderBlock(b, names))
    .filter((line) => line !== '')
    .join('\n');
}
