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
      /**
       * What the request is for as the requester typed it, normalised: one account, or (a
       * multi-account request, requests/group.ts) the comma-separated `targets`.
       */
      account: string;
      /** The accounts and `ou:<name or id>` entries, de-duplicated, in the order given. */
      targets: string[];
      template: string;
      durationSeconds: number;
      reason: string;
    };

export const USAGE = [
  '`/aws-access` – open the request form',
  '`/aws-access <account> <template> <duration> <reason…>` – request access, e.g. `/aws-access prod readonly 2h INC-123 checking alarms`',
  '`/aws-access <account>,<account>,ou:<OU> <template> <duration> <reason…>` – several accounts in one request (`ou:` = every active account under that OU)',
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

const OU_PREFIX = 'ou:';

/**
 * The account part of a one-line request: `sandbox`, `sandbox,staging`, `ou:Workloads`,
 * `sandbox,ou:Dev`. Entries are de-duplicated (an `ou:` prefix in any case, names compared
 * case-insensitively, as the directory finds them); how many accounts they come to is checked
 * once the OUs are resolved (requests/group.ts), against `requests.maxAccountsPerRequest`.
 */
export function parseTargets(text: string): string[] {
  const seen = new Set<string>();
  const targets: string[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (!entry) {
      throw new CommandSyntaxError(
        `"${text}" has an empty entry; separate accounts with single commas, e.g. \`sandbox,staging\``,
      );
    }
    const isOu = entry.toLowerCase().startsWith(OU_PREFIX);
    const target = isOu ? `${OU_PREFIX}${entry.slice(OU_PREFIX.length)}` : entry;
    if (isOu && target.length === OU_PREFIX.length) {
      throw new CommandSyntaxError(
        '`ou:` needs an OU name or id, e.g. `ou:Workloads` or `ou:ou-ab12-cd34ef56`',
      );
    }
    const key = target.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    targets.push(target);
  }
  return targets;
}

/** Whether a request's account text names more than one account (a list or an OU). */
export function isMultiTarget(account: string): boolean {
  return account.includes(',') || account.toLowerCase().startsWith(OU_PREFIX);
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
  const targets = parseTargets(account!);
  return {
    kind: 'request',
    account: targets.join(','),
    targets,
    template: template.toLowerCase(),
    durationSeconds: duration(durationText, 'duration'),
    reason: reasonWords.join(' '),
  };
}
