/**
 * The posture part of the daily sweep for one account: review, drop accepted risks still in
 * force, store the findings, and tell each new finding once: its owner by DM (grouped), the
 * security channel for findings nobody owns, for admin paths and open trusts (whoever owns
 * them) and for drift of the bot's own roles. A finding is
 * new when the previous sweep did not store it, so an accepted risk that expires is told again.
 */
import type { PostureFinding } from './types.js';
import { reviewAccountPosture } from './review-account.js';
import type { AccountPosture, PostureSweepDeps } from './ports.js';

export interface PostureSweepResult {
  accountId: string;
  findings: PostureFinding[];
  accepted: string[];
  exempted: number;
  /** Slack id (or `security`) → new finding ids told. */
  told: Record<string, string[]>;
}

/**
 * Kinds told to the security channel even when the principal has an owner, so only its members
 * can accept them: the owner comes from a tag that anyone with iam:TagUser / iam:TagRole can
 * set, and an admin path or an open trust must not be silenced by the principal that has it.
 */
const SECURITY_ONLY: ReadonlySet<PostureFinding['kind']> = new Set(['admin-equivalent', 'open-trust']);

export async function sweepPosture(deps: PostureSweepDeps, accountId: string): Promise<PostureSweepResult> {
  const now = deps.clock.now();
  const log = deps.log.child({ job: 'posture-sweep', accountId });
  const review = await reviewAccountPosture({ ...deps.review, now: new Date(now) }, accountId);
  const risks = await deps.store.acceptedRisks(review.findings.map((f) => f.id));
  const accepted = review.findings.filter((f) => {
    const risk = risks.get(f.id);
    return risk !== undefined && Date.parse(risk.until) > now;
  });
  const acceptedIds = new Set(accepted.map((f) => f.id));
  const findings = review.findings.filter((f) => !acceptedIds.has(f.id));

  const previous = await deps.store.getFindings(accountId);
  const record: AccountPosture = {
    accountId,
    sweptAt: new Date(now).toISOString(),
    entityCount: review.entityCount,
    findings,
  };
  // Drift told after a reconcile since the last sweep is not new either.
  const seen = new Set([
    ...(previous?.findings.map((f) => f.id) ?? []),
    ...(await deps.store.toldDrift(accountId)),
  ]);
  const fresh = findings.filter((f) => !seen.has(f.id));
  const result: PostureSweepResult = {
    accountId,
    findings,
    accepted: [...acceptedIds],
    exempted: review.exempted.length,
    told: {},
  };

  const byOwner = new Map<string, PostureFinding[]>();
  const forSecurity: PostureFinding[] = [];
  for (const f of fresh) {
    if (f.owner?.kind === 'slack' && !SECURITY_ONLY.has(f.kind))
      byOwner.set(f.owner.slackUserId, [...(byOwner.get(f.owner.slackUserId) ?? []), f]);
    else forSecurity.push(f);
  }
  // Posts first, then the record: a failed post leaves the findings new, so the retried job
  // tells them again rather than never.
  for (const [owner, list] of [...byOwner].sort(([a], [b]) => a.localeCompare(b))) {
    const id = deps.newId();
    await deps.store.saveMessage({ id, slackUserId: owner, findingIds: list.map((f) => f.id) });
    await deps.notifier.ownerFindings(owner, id, list);
    result.told[owner] = list.map((f) => f.id);
  }
  if (forSecurity.length > 0) {
    const id = deps.newId();
    await deps.store.saveMessage({ id, findingIds: forSecurity.map((f) => f.id) });
    await deps.notifier.securityFindings(accountId, id, forSecurity);
    result.told.security = forSecurity.map((f) => f.id);
  }
  await deps.store.saveFindings(record);
  await deps.store.setToldDrift(
    accountId,
    findings.filter((f) => f.kind === 'access-role-drift').map((f) => f.id),
  );
  log.info(
    {
      findings: findings.length,
      fresh: fresh.length,
      accepted: accepted.length,
      exempted: review.exempted.length,
    },
    'posture sweep done',
  );
  return result;
}
