/**
 * The posture review of one account: every check over one `GetAccountAuthorizationDetails`
 * read, then the configured exemptions. Takes `now` and the simulator, so the same details
 * always give the same findings.
 */
import { accessRoleDriftFindings } from './access-role-drift.js';
import { adminEquivalentFindings } from './admin-equivalent.js';
import { openTrustFindings, placementFindings, unusedFindings, wildcardFindings } from './checks.js';
import { wildcardMatch } from './statements.js';
import type { AuthorizationDetails, PostureContext, PostureExemption, PostureFinding } from './types.js';

export interface ExemptedFinding {
  finding: PostureFinding;
  reason: string;
}

export interface PostureReview {
  findings: PostureFinding[];
  /** Findings an exemption silenced, with its reason (shown by the CLI, never posted). */
  exempted: ExemptedFinding[];
}

/** The exemption that covers `finding`, if any. `tags` are the user's or role's tags. */
export function exemptionFor(
  finding: PostureFinding,
  tags: Record<string, string> | undefined,
  exemptions: PostureExemption[],
): PostureExemption | undefined {
  return exemptions.find((e) => {
    if (e.kinds && !e.kinds.includes(finding.kind)) return false;
    if (e.arn !== undefined && !wildcardMatch(e.arn, finding.arn)) return false;
    if (e.tag !== undefined) {
      const value = tags?.[e.tag.key];
      if (value === undefined || (e.tag.value !== undefined && value !== e.tag.value)) return false;
    }
    return true;
  });
}

export async function reviewPosture(
  details: AuthorizationDetails,
  context: PostureContext,
): Promise<PostureReview> {
  const { settings, now } = context;
  const all = [
    ...placementFindings(details),
    ...(await adminEquivalentFindings(details, context.simulator)),
    ...unusedFindings(details, settings, now),
    ...wildcardFindings(details),
    ...openTrustFindings(details, settings),
    ...(context.accessRoles
      ? accessRoleDriftFindings(details.accountId, details.roles, context.accessRoles)
      : []),
  ];
  const tags = new Map<string, Record<string, string>>([
    ...details.users.map((u) => [u.arn, u.tags] as const),
    ...details.roles.map((r) => [r.arn, r.tags] as const),
  ]);
  const review: PostureReview = { findings: [], exempted: [] };
  for (const finding of all) {
    const exemption = exemptionFor(finding, tags.get(finding.arn), settings.exemptions);
    if (exemption) review.exempted.push({ finding, reason: exemption.reason });
    else review.findings.push(finding);
  }
  return review;
}
