/**
 * Reading policy documents as IAM writes them: a statement or a list of them, strings or lists
 * of strings. Only the shape of a document is read here; what it allows is the simulator's call.
 */

export interface Statement {
  Effect?: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export function statementsOf(document: unknown): Statement[] {
  if (!document || typeof document !== 'object') return [];
  const raw = (document as { Statement?: unknown }).Statement;
  const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
  return list.filter((s): s is Statement => !!s && typeof s === 'object');
}

export function asList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

export function isAllow(statement: Statement): boolean {
  return statement.Effect === 'Allow';
}

/** The condition keys a statement tests, lower case (IAM compares keys case-insensitively). */
export function conditionKeys(statement: Statement): Set<string> {
  const keys = new Set<string>();
  for (const block of Object.values(statement.Condition ?? {})) {
    if (block && typeof block === 'object') for (const key of Object.keys(block)) keys.add(key.toLowerCase());
  }
  return keys;
}

/** `*` and `?` as IAM's ArnLike/StringLike read them, the rest literal; case-sensitive. */
export function wildcardMatch(pattern: string, value: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 's').test(value);
}
