/** The review a break-glass grant requires afterwards: one approver's click, the first one wins. */
import { checkReviewer, alreadyReviewed } from '../break-glass-review.js';
import { refusal } from '../approval-policy.js';
import {
  identitiesOf,
  membersOf,
  record,
  refuseMissing,
  refuseWith,
  ruleNamed,
  safely,
  transitionEvent,
  type RequestContext,
} from './context.js';
import { clickerOnCall } from './on-call-lookups.js';
import type { ActionResult } from './types.js';

/**
 * Records one approver's review of a break-glass grant, whatever state the grant is in now.
 * Authority is checked at click time like an approval. The review is a versioned
 * compare-and-set that keeps the state: the first valid click wins, a later one is refused
 * ("already reviewed by …"); a concurrent change of the grant (revoke, extend) only makes us
 * re-read and try again.
 */
export async function reviewBreakGlass(
  ctx: RequestContext,
  requestId: string,
  clickerId: string,
): Promise<ActionResult> {
  const action = 'break-glass-review';
  let request = await ctx.store.get(requestId);
  if (!request) return refuseMissing(ctx, clickerId, action, requestId);
  const rule = ruleNamed(ctx, request.ruleName);
  const [clicker, groupMembers] = await Promise.all([
    ctx.people.person(clickerId),
    membersOf(ctx, rule?.approvers.groups ?? []),
  ]);
  const identities = await identitiesOf(ctx, request, clickerId, clicker, []);
  const onCall = await clickerOnCall(ctx, rule, clickerId, clicker, groupMembers);
  const problem = checkReviewer({ request, rule, clickerId, clicker, groupMembers, identities, onCall });
  if (problem) return refuseWith(ctx, clickerId, action, request, problem);
  const at = ctx.clock.now();
  for (let attempt = 0; attempt < 5; attempt++) {
    const moved = await ctx.store.annotate(requestId, {
      states: [request.state],
      expectedVersion: request.version,
      patch: { reviewedBy: clickerId, reviewedAt: at },
    });
    if (moved.ok) {
      await record(ctx, {
        ...transitionEvent(clickerId, action, moved),
        details: { rule: request.ruleName },
      });
      await safely(ctx, 'break-glass review message', () => ctx.notifier.breakGlassReviewed(moved.request));
      return {
        ok: true,
        request: moved.request,
        message: `Marked break-glass request ${requestId} as reviewed.`,
        changed: true,
      };
    }
    if (moved.reason === 'missing') return refuseMissing(ctx, clickerId, action, requestId);
    const current = await ctx.store.get(requestId);
    if (!current) return refuseMissing(ctx, clickerId, action, requestId);
    const reviewed = alreadyReviewed(current);
    if (reviewed) return refuseWith(ctx, clickerId, action, current, reviewed);
    request = current;
  }
  return refuseWith(
    ctx,
    clickerId,
    action,
    request,
    refusal('wrong-state', `request ${requestId} changed meanwhile; nothing was changed, try again`),
  );
}
