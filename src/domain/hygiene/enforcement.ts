/**
 * What `enforce` mode does with unused keys. A key is deactivated only after its owner was
 * warned and the grace period passed since that first warning; a key nobody owns is left alone
 * (and reported) unless `enforceUnowned` says otherwise. Nothing is ever deleted.
 */
import type { Finding } from './types.js';

const DAY_MS = 86_400_000;

export type EnforcementAction =
  | { type: 'warn'; finding: Finding; recipient: 'owner' | 'security'; deactivateAfter: Date }
  | { type: 'wait'; finding: Finding; warnedAt: Date; deactivateAfter: Date }
  | { type: 'deactivate'; finding: Finding; warnedAt: Date }
  | { type: 'skip-unowned'; finding: Finding };

export interface EnforcementOptions {
  gracePeriodDays: number;
  enforceUnowned: boolean;
}

/**
 * @param warnedAt first warning per finding id (epoch ms), as stored by earlier sweeps.
 */
export function planEnforcement(
  findings: Finding[],
  warnedAt: ReadonlyMap<string, number>,
  now: Date,
  options: EnforcementOptions,
): EnforcementAction[] {
  const grace = options.gracePeriodDays * DAY_MS;
  return findings
    .filter((f) => f.kind === 'unused-key')
    .map((finding): EnforcementAction => {
      const owned = finding.owner?.kind === 'slack';
      if (!owned && !options.enforceUnowned) return { type: 'skip-unowned', finding };
      const warned = warnedAt.get(finding.id);
      if (warned === undefined) {
        return {
          type: 'warn',
          finding,
          recipient: owned ? 'owner' : 'security',
          deactivateAfter: new Date(now.getTime() + grace),
        };
      }
      if (now.getTime() - warned >= grace) return { type: 'deactivate', finding, warnedAt: new Date(warned) };
      return { type: 'wait', finding, warnedAt: new Date(warned), deactivateAfter: new Date(warned + grace) };
    });
}
