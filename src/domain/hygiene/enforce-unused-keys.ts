/**
 * `enforce` mode carried out: send the warnings the plan asks for (recording each only after
 * the message went out), deactivate keys whose grace period is over, tell their owners, and
 * audit every warning, deactivation, skip and failure.
 */
import { AppError, ErrorCode } from '../../errors.js';
import type { EnforcementAction } from './enforcement.js';
import type { HygieneDeps } from './ports.js';
import type { Finding } from './types.js';

const ACTOR = 'aws-access-bot';

/** Slack user id → findings; '' for findings nobody owns (they go to the security channel). */
function groupByOwner(findings: Finding[]): Map<string, Finding[]> {
  const out = new Map<string, Finding[]>();
  for (const f of findings) {
    const key = f.owner?.kind === 'slack' ? f.owner.slackUserId : '';
    out.set(key, [...(out.get(key) ?? []), f]);
  }
  return out;
}

export async function enforceUnusedKeys(
  deps: Pick<HygieneDeps, 'store' | 'notifier' | 'keys' | 'audit' | 'clock' | 'log'>,
  accountId: string,
  plan: EnforcementAction[],
): Promise<{ warned: string[]; deactivated: string[] }> {
  const now = deps.clock.now();
  const warned: string[] = [];

  const warns = plan.filter((a): a is Extract<EnforcementAction, { type: 'warn' }> => a.type === 'warn');
  for (const [owner, findings] of groupByOwner(warns.map((w) => w.finding))) {
    const deactivateAfter = warns[0]!.deactivateAfter;
    await deps.notifier.enforcementWarning(owner || undefined, findings, deactivateAfter);
    for (const f of findings) {
      // Recorded only after the message went out: the grace period runs from a warning that was sent.
      if (await deps.store.recordWarning(accountId, f.id, now)) {
        warned.push(f.id);
        await deps.audit({
          type: 'hygiene.key-warning-sent',
          actor: ACTOR,
          accountId,
          userName: f.userName,
          findingId: f.id,
          detail: `warned ${owner ? `<@${owner}>` : 'the security channel'}: deactivation after ${deactivateAfter.toISOString()}`,
        });
      }
    }
  }

  const failures: string[] = [];
  const deactivated: Finding[] = [];
  for (const action of plan) {
    if (action.type !== 'deactivate' || !action.finding.key || !action.finding.userName) continue;
    const f = action.finding;
    const base = { actor: ACTOR, accountId, userName: f.userName, findingId: f.id };
    try {
      const outcome = await deps.keys.deactivate(accountId, f.userName!, f.key!);
      if (outcome.outcome === 'deactivated') {
        deactivated.push(f);
        await deps.audit({
          ...base,
          type: 'hygiene.key-deactivated',
          accessKeyIdSuffix: outcome.accessKeyIdSuffix,
          detail: `${f.detail}; warned ${action.warnedAt.toISOString()}`,
        });
      } else {
        await deps.audit({
          ...base,
          type: 'hygiene.key-deactivation-skipped',
          detail: outcome.outcome === 'not-found' ? 'key no longer exists' : 'key already inactive',
        });
      }
    } catch (error) {
      failures.push(f.id);
      deps.log.error({ err: error, accountId, userName: f.userName }, 'deactivating an unused key failed');
      await deps.audit({ ...base, type: 'hygiene.key-deactivation-failed', detail: (error as Error).name });
    }
  }
  for (const [owner, findings] of groupByOwner(deactivated))
    await deps.notifier.keysDeactivated(owner || undefined, findings);
  if (failures.length > 0)
    throw new AppError(ErrorCode.AwsRetryable, `${failures.length} key deactivations failed in ${accountId}`);
  return { warned, deactivated: deactivated.map((f) => f.id) };
}
