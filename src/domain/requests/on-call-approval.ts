/** The page for a request granted at once because its requester is on call: as for break-glass. */
import type { AccessRequest } from '../access-request.js';
import { onCallApprovalNote, type OnCallSchedule } from '../on-call.js';
import { safely, type RequestContext } from './context.js';

export async function pageOnCallApproval(
  ctx: RequestContext,
  request: AccessRequest,
  schedules: readonly OnCallSchedule[],
): Promise<void> {
  await safely(ctx, 'on-call auto-approval alert', () =>
    ctx.notifier.onCallApproved(request, onCallApprovalNote(schedules)),
  );
}
