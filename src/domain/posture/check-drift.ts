/**
 * `access-role-drift` between daily sweeps: after each reconcile run, the `/aws-access/` roles
 * of each account (one read of the roles alone) against what the bot wrote for their requests.
 * Drift not told before (by this check or the daily sweep) and not accepted goes to the security
 * channel at once; the told set is then the account's current drift, so drift that goes away and
 * comes back is told again.
 */
import { accessRoleDriftFindings } from './access-role-drift.js';
import type { PostureSweepDeps } from './ports.js';
import type { PostureFinding } from './types.js';

export async function checkAccessRoleDrift(
  deps: Omit<PostureSweepDeps, 'audit'>,
  accountId: string,
): Promise<PostureFinding[]> {
  const expectations = await deps.review.accessRoles(accountId);
  if (!expectations) return [];
  const roles = await deps.review.reader.readRoles(accountId);
  const drift = accessRoleDriftFindings(accountId, roles, expectations);
  const now = deps.clock.now();
  const risks = await deps.store.acceptedRisks(drift.map((f) => f.id));
  const current = drift.filter((f) => {
    const risk = risks.get(f.id);
    return !(risk && Date.parse(risk.until) > now);
  });
  const told = await deps.store.toldDrift(accountId);
  const fresh = current.filter((f) => !told.has(f.id));
  if (fresh.length > 0) {
    const id = deps.newId();
    await deps.store.saveMessage({ id, findingIds: fresh.map((f) => f.id) });
    await deps.notifier.securityFindings(accountId, id, fresh);
    deps.log.warn(
      { accountId, drift: fresh.map((f) => f.arn) },
      '/aws-access/ role drift found after reconcile',
    );
  }
  await deps.store.setToldDrift(
    accountId,
    current.map((f) => f.id),
  );
  return fresh;
}
