/**
 * The `/aws-access` command grammar. Pure: turns the text after the command into an intent,
 * or a CommandSyntaxError whose message says what was wrong and is followed by the usage line.
 */
import { parseDuration, DurationSyntaxError } from './duration.js';

export type AccessCommand =
  | { kind: 'open-modal' }
  | { kind: 'help' }
  | { kind: 'list' }
  | { kind: 'templates' }
  | { kind: 'status'; requestId: string }
  | { kind: 'cancel'; requestId: string }
  | { kind: 'revoke'; requestId: string }
  | { kind: 'extend'; requestId: string; durationSeconds: number }
  | {
      kind: 'request';
      account: string;
      template: string;
      durationSeconds: number;
      reason: string;
    };

export const USAGE = [
  '`/aws-access` – open the request form',
  '`/aws-access <account> <template> <duration> <reason…>` – request access, e.g. `/aws-access prod readonly 2h INC-123 checking alarms`',
  '`/aws-access list` – your grants and pending requests',
  '`/aws-access templates` – what you can ask for',
  '`/aws-access status <id>` · `cancel <id>` · `revoke <id>` · `extend <id> <duration>`',
  '`/aws-access help` – this message',
  'Durations look like `30m`, `2h`, `1h30m` or `1d`.',
].join('\n');

export class CommandSyntaxError extends Error {
  readonly usage = USAGE;
  constructor(problem: string) {
    super(problem);
    this.name = 'CommandSyntaxError';
  }
}

const REQUEST_ID_RE = /^[A-Za-z0-9_-]{4,64}$/;
const SUBCOMMANDS_WITH_ID = new Set(['status', 'cancel', 'revoke']);

function requestIdArg(sub: string, args: string[]): string {
  const id = args[0];
  if (!id) throw new CommandSyntaxError(`\`${sub}\` needs a request id, e.g. \`/aws-access ${sub} r-8f2k1\``);
  if (args.length > 1) throw new CommandSyntaxError(`\`${sub}\` takes just a request id`);
  if (!REQUEST_ID_RE.test(id)) throw new CommandSyntaxError(`"${id}" is not a request id`);
  return id;
}

function duration(text: string, what: string): number {
  try {
    return parseDuration(text);
  } catch (error) {
    if (error instanceof DurationSyntaxError) {
      throw new CommandSyntaxError(`${what}: ${error.message}`);
    }
    throw error;
  }
}

export function parseCommand(text: string): AccessCommand {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [first, ...rest] = words;
  if (!first) return { kind: 'open-modal' };
  const sub = first.toLowerCase();
  if (sub === 'help') return { kind: 'help' };
  if (sub === 'list' || sub === 'templates') {
    if (rest.length > 0) throw new CommandSyntaxError(`\`${sub}\` takes no arguments`);
    return { kind: sub };
  }
  if (SUBCOMMANDS_WITH_ID.has(sub)) {
    return { kind: sub as 'status' | 'cancel' | 'revoke', requestId: requestIdArg(sub, rest) };
  }
  if (sub === 'extend') {
    const [id, by, ...extra] = rest;
    if (!id || !by || extra.length > 0) {
      throw new CommandSyntaxError(
        '`extend` needs a request id and a duration, e.g. `/aws-access extend r-8f2k1 1h`',
      );
    }
    if (!REQUEST_ID_RE.test(id)) throw new CommandSyntaxError(`"${id}" is not a request id`);
    return { kind: 'extend', requestId: id, durationSeconds: duration(by, 'extend') };
  }
  const [account, template, durationText, ...reasonWords] = words;
  if (!template) throw new CommandSyntaxError(`missing template after account "${account}"`);
  if (!durationText) throw new CommandSyntaxError(`missing duration after template "${template}"`);
  return {
    kind: 'request',
    account: account!,
    template: template.toLowerCase(),
    durationSeconds: duration(durationText, 'duration'),
    reason: reasonWords.join(' '),
  };
}
