/**
 * Template variables (`${account_id}`, `${requester}`, …) rendered into policies before they go
 * to IAM. IAM's own policy variables (`${aws:username}`, `${s3:prefix}`) and escapes (`${*}`,
 * `${?}`, `${$}`) contain a colon or are punctuation, so they pass through untouched.
 *
 * The boundary policy is shared by every grant of a template in an account, so it may only use
 * the account-level variables; per-grant ones (requester, request id, dates) belong in the
 * inline or session policy.
 */

export const ACCOUNT_VARIABLES = [
  'account_id',
  'partition',
  'region',
  'template',
  'broker_role_name',
] as const;

export const GRANT_VARIABLES = [
  ...ACCOUNT_VARIABLES,
  'requester',
  'requester_email',
  'slack_user_id',
  'principal_arn',
  'request_id',
  'role_name',
  'starts_at',
  'expires_at',
] as const;

export type GrantVariable = (typeof GRANT_VARIABLES)[number];
export type VariableValues = Partial<Record<GrantVariable, string>>;

/** `${name}` where name is ours (no colon); IAM's own variables are left alone. */
const VARIABLE_RE = /\$\{([A-Za-z0-9_.-]+)\}/g;

export interface UnknownVariable {
  /** Path inside the document, e.g. `Statement[0].Resource[1]`. */
  path: string;
  name: string;
}

function walk(value: unknown, path: string, visit: (text: string, path: string) => string): unknown {
  if (typeof value === 'string') return visit(value, path);
  if (Array.isArray(value)) return value.map((v, i) => walk(v, `${path}[${i}]`, visit));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // Condition keys may hold variables too (aws:ResourceTag/${template}).
      const key = visit(k, path ? `${path}.${k}` : k);
      out[key] = walk(v, path ? `${path}.${k}` : k, visit);
    }
    return out;
  }
  return value;
}

/** Variables in `document` that are not in `allowed`, with where they appear. */
export function findUnknownVariables(document: unknown, allowed: readonly string[]): UnknownVariable[] {
  const unknown: UnknownVariable[] = [];
  walk(document, '', (text, path) => {
    for (const match of text.matchAll(VARIABLE_RE)) {
      if (!allowed.includes(match[1]!)) unknown.push({ path, name: match[1]! });
    }
    return text;
  });
  return unknown;
}

export class UnknownVariableError extends Error {
  constructor(readonly variable: UnknownVariable) {
    super(`unknown variable \${${variable.name}} at ${variable.path}`);
    this.name = 'UnknownVariableError';
  }
}

/** Replaces our variables in every string of `document`; throws on one without a value. */
export function renderVariables<T>(document: T, values: VariableValues): T {
  return walk(document, '', (text, path) =>
    text.replace(VARIABLE_RE, (_whole, name: string) => {
      const value = values[name as GrantVariable];
      if (value === undefined) throw new UnknownVariableError({ path, name });
      return value;
    }),
  ) as T;
}

export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}
