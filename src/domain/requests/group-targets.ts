/**
 * What a multi-account request names, resolved: accounts by id, name or alias, and `ou:<name or
 * id>` as every active account under that OU (nested OUs included), de-duplicated and held to
 * `requests.maxAccountsPerRequest`.
 */
import { refusal, type Refusal } from '../approval-policy.js';
import type { Account } from '../ports.js';
import type { RequestContext } from './context.js';

export const DEFAULT_MAX_ACCOUNTS_PER_REQUEST = 20;
const OU_PREFIX = 'ou:';

/**
 * The accounts under an OU named by id or by name (case-insensitive), nested OUs included: every
 * account whose OU path passes through it. The directory lists active accounts only.
 */
export function accountsUnderOu(accounts: readonly Account[], query: string): Account[] | Refusal {
  const wanted = query.trim().toLowerCase();
  const ous = new Map<string, string>();
  for (const account of accounts) for (const ou of account.ouPath) ous.set(ou.id, ou.name);
  let ids = [...ous.keys()].filter((id) => id.toLowerCase() === wanted);
  if (!ids.length) ids = [...ous].filter(([, name]) => name.toLowerCase() === wanted).map(([id]) => id);
  if (!ids.length) {
    return refusal(
      'unknown-ou',
      `no OU called "${query}" holds an active account (name the OU or give its id, e.g. ou:ou-ab12-cd34ef56)`,
      'account',
    );
  }
  if (ids.length > 1) {
    return refusal(
      'ambiguous-ou',
      `more than one OU is called "${query}" (${ids.join(', ')}); name one by its id, e.g. ou:${ids[0]}`,
      'account',
    );
  }
  return accounts.filter((a) => a.ouPath.some((ou) => ou.id === ids[0]));
}

/** The accounts a request names (accounts and `ou:` entries), de-duplicated, within the limit. */
export async function resolveTargets(
  ctx: RequestContext,
  targets: readonly string[],
): Promise<{ ok: true; accounts: Account[] } | { ok: false; refusals: Refusal[] }> {
  const isOu = (t: string) => t.toLowerCase().startsWith(OU_PREFIX);
  const max = ctx.settings.maxAccountsPerRequest ?? DEFAULT_MAX_ACCOUNTS_PER_REQUEST;
  // Names are looked up one by one, so a list more than twice the limit is refused before any
  // look-up (a name and an alias of one account count once, hence not at the limit itself).
  const named = targets.filter((t) => !isOu(t)).length;
  if (named > 2 * max) return { ok: false, refusals: [tooMany(named, max, 'names')] };
  const all = targets.some(isOu) ? await ctx.accounts.listAccounts() : [];
  const refusals: Refusal[] = [];
  const found: Account[] = [];
  for (const target of targets) {
    if (isOu(target)) {
      const under = accountsUnderOu(all, target.slice(OU_PREFIX.length));
      if (Array.isArray(under)) found.push(...under);
      else refusals.push(under);
      continue;
    }
    const account = await ctx.accounts.findAccount(target);
    if (account) found.push(account);
    else refusals.push(refusal('unknown-account', `no account called "${target}"`, 'account'));
  }
  if (refusals.length) return { ok: false, refusals };
  const accounts = [...new Map(found.map((a) => [a.id, a])).values()];
  if (accounts.length > max) return { ok: false, refusals: [tooMany(accounts.length, max)] };
  return { ok: true, accounts };
}

function tooMany(count: number, max: number, verb = 'covers'): Refusal {
  return refusal(
    'too-many-accounts',
    `the request ${verb} ${count} accounts and the limit is ${max} per request; ask for fewer accounts at a time`,
    'account',
  );
}
