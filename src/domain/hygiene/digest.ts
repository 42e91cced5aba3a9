/**
 * The weekly digest: counts per finding kind and account, the IAM users with the most
 * findings, and the change since the previous week's snapshot.
 */
import { FINDING_KINDS, type AccountFindings, type FindingKind, type Owner } from './types.js';

export type KindCounts = Record<FindingKind, number>;

export interface DigestSnapshot {
  week: string;
  takenAt: string;
  /** accountId → counts */
  accounts: Record<string, KindCounts>;
}

export interface Offender {
  accountId: string;
  userName: string;
  owner?: Owner;
  count: number;
  kinds: FindingKind[];
}

export interface Digest {
  week: string;
  previousWeek?: string;
  totals: KindCounts;
  total: number;
  accounts: Array<{ accountId: string; counts: KindCounts; total: number; sweptAt: string }>;
  worstOffenders: Offender[];
  /** Per kind, now minus last week; undefined when there is no earlier snapshot. */
  change?: KindCounts;
  totalChange?: number;
}

export function emptyCounts(): KindCounts {
  return Object.fromEntries(FINDING_KINDS.map((k) => [k, 0])) as KindCounts;
}

function sum(counts: KindCounts): number {
  return FINDING_KINDS.reduce((n, k) => n + counts[k], 0);
}

export function computeDigest(
  accounts: AccountFindings[],
  previous: DigestSnapshot | undefined,
  week: string,
  now: Date,
  options: { worstOffenders?: number } = {},
): { digest: Digest; snapshot: DigestSnapshot } {
  const totals = emptyCounts();
  const perAccount: Digest['accounts'] = [];
  const offenders = new Map<string, Offender>();
  for (const account of [...accounts].sort((a, b) => a.accountId.localeCompare(b.accountId))) {
    const counts = emptyCounts();
    for (const f of account.findings) {
      counts[f.kind] += 1;
      totals[f.kind] += 1;
      if (!f.userName) continue;
      const key = `${f.accountId}/${f.userName}`;
      const o = offenders.get(key) ?? {
        accountId: f.accountId,
        userName: f.userName,
        owner: f.owner,
        count: 0,
        kinds: [],
      };
      o.count += 1;
      if (!o.kinds.includes(f.kind)) o.kinds.push(f.kind);
      offenders.set(key, o);
    }
    perAccount.push({ accountId: account.accountId, counts, total: sum(counts), sweptAt: account.sweptAt });
  }
  const worstOffenders = [...offenders.values()]
    .sort(
      (a, b) =>
        b.count - a.count || a.accountId.localeCompare(b.accountId) || a.userName.localeCompare(b.userName),
    )
    .slice(0, options.worstOffenders ?? 5);
  const snapshot: DigestSnapshot = {
    week,
    takenAt: now.toISOString(),
    accounts: Object.fromEntries(perAccount.map((a) => [a.accountId, a.counts])),
  };
  let change: KindCounts | undefined;
  if (previous) {
    const before = emptyCounts();
    for (const counts of Object.values(previous.accounts))
      for (const k of FINDING_KINDS) before[k] += counts[k] ?? 0;
    change = emptyCounts();
    for (const k of FINDING_KINDS) change[k] = totals[k] - before[k];
  }
  const digest: Digest = {
    week,
    previousWeek: previous?.week,
    totals,
    total: sum(totals),
    accounts: perAccount,
    worstOffenders,
    change,
    totalChange: change ? sum(change) : undefined,
  };
  return { digest, snapshot };
}
