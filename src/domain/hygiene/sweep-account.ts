/**
 * The daily sweep of one account: read (one report, constant calls), evaluate, attribute
 * owners, store the findings, tell the security channel about new findings nobody owns, and
 * in `enforce` mode warn, wait out the grace period, then deactivate unused keys.
 */
import { planEnforcement, type EnforcementAction } from './enforcement.js';
import { enforceUnusedKeys } from './enforce-unused-keys.js';
import { evaluateAccount } from './evaluate.js';
import { resolveSlackIdsByEmail } from './owner-emails.js';
import { emailsToLookUp, resolveOwner, type OwnerInput } from './owners.js';
import type { HygieneDeps } from './ports.js';
import type { AccountFindings, Finding, Owner } from './types.js';

export interface SweepOptions {
  /** Defaults to the configured mode. */
  mode?: 'report' | 'enforce';
  /** Read and decide only: no Slack posts, no store writes, no IAM writes. */
  dryRun?: boolean;
}

export interface SweepResult {
  accountId: string;
  findings: Finding[];
  /** What enforce does (or, in a dry run / report mode, would do) with unused keys. */
  plan: EnforcementAction[];
  deactivated: string[];
  warned: string[];
}

export async function sweepAccount(
  deps: HygieneDeps,
  accountId: string,
  options: SweepOptions = {},
): Promise<SweepResult> {
  const { settings } = deps;
  const mode = options.mode ?? settings.mode;
  const dryRun = options.dryRun ?? false;
  const now = new Date(deps.clock.now());
  const log = deps.log.child({ job: 'hygiene-sweep', accountId, mode, dryRun });
  const state = await deps.reader.read(accountId);

  const users: OwnerInput[] = state.report.rows.map((r) => ({
    userName: r.userName,
    userArn: r.arn,
    tags: state.userTags[r.userName] ?? {},
  }));
  const emails = await resolveSlackIdsByEmail({ ...deps, log }, emailsToLookUp(users, settings.identityMap), {
    dryRun,
  });
  const owners = new Map<string, Owner>(
    users.map((u) => [u.userName, resolveOwner(u, settings.identityMap, emails)]),
  );
  const findings = evaluateAccount(state, settings.thresholds, now).map((f) =>
    f.userName ? { ...f, owner: owners.get(f.userName) } : f,
  );
  const warnings = await deps.store.getWarnings(accountId);
  const plan = planEnforcement(findings, warnings, now, settings);
  log.info(
    { users: users.length, findings: findings.length, generatedAt: state.report.generatedAt },
    'credential sweep evaluated',
  );
  const result: SweepResult = { accountId, findings, plan, deactivated: [], warned: [] };
  if (dryRun) return result;

  const previous = await deps.store.getFindings(accountId);
  const record: AccountFindings = {
    accountId,
    sweptAt: now.toISOString(),
    reportGeneratedAt: state.report.generatedAt.toISOString(),
    userCount: users.length,
    findings,
  };
  await deps.store.saveFindings(record);

  // Findings only the security team can act on, each reported once when it first appears.
  const seen = new Set(previous?.findings.map((f) => f.id));
  const forSecurity = findings.filter((f) => !seen.has(f.id) && f.owner?.kind !== 'slack');
  if (forSecurity.length > 0) await deps.notifier.unownedFindings(accountId, forSecurity);

  await deps.store.pruneWarnings(
    accountId,
    new Set(findings.filter((f) => f.kind === 'unused-key').map((f) => f.id)),
  );
  if (mode === 'enforce') {
    const done = await enforceUnusedKeys({ ...deps, log }, accountId, plan);
    result.warned.push(...done.warned);
    result.deactivated.push(...done.deactivated);
  }
  return result;
}
