/**
 * The review that follows a break-glass grant: the grant happened at once, so one of the rule's
 * approvers looks at it afterwards. The review does not change the grant's state; it is recorded
 * once on the request (`reviewedBy` / `reviewedAt`) and the first valid click wins.
 */
import type { AccessRequest } from './access-request.js';
import { checkApproverNow, refusal, type DecisionCheck, type Refusal } from './approval-policy.js';

/** The same facts as an approval's click-time check. */
export type ReviewCheck = DecisionCheck;

/**
 * Checked at every click with the rule and group memberships of that moment, like an approval:
 * a break-glass request not yet reviewed, a clicker who is not the requester, is a person (not
 * deleted, a guest or a bot) and is an approver of the rule now.
 */
export function checkReviewer(check: ReviewCheck): Refusal | undefined {
  const { request, clickerId } = check;
  if (!request.breakGlass) {
    return refusal('not-break-glass', `request ${request.id} is not a break-glass grant; it needs no review`);
  }
  const { identities } = check;
  const twin = identities && [...identities.clicker].some((key) => identities.requester.has(key));
  if (clickerId === request.requesterId || twin) {
    return refusal('self-approval', 'you cannot review your own break-glass access');
  }
  return checkApproverNow(check) ?? alreadyReviewed(request);
}

export function alreadyReviewed(request: AccessRequest): Refusal | undefined {
  if (!request.reviewedBy) return undefined;
  const at = request.reviewedAt ? ` at ${new Date(request.reviewedAt).toISOString()}` : '';
  return refusal(
    'already-reviewed',
    `request ${request.id} was already reviewed by <@${request.reviewedBy}>${at}; nothing was changed`,
  );
}
