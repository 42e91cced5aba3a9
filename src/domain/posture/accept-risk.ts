/**
 * Accept risk (or snooze) on the findings of one posture message, with a reason, for a number of
 * days: the owner the DM went to may, and anyone in the security channel for the channel's
 * posts (the channel is the security team's). Each finding's acceptance is audited with the
 * reason; the sweep leaves accepted findings out until the acceptance ends.
 */
import type { HygieneAudit } from '../hygiene/ports.js';
import type { Clock } from '../ports.js';
import type { PostureMessage, PostureStore } from './ports.js';

const DAY_MS = 86_400_000;
export const ACCEPT_RISK_DAYS = [7, 30, 90, 365] as const;

export type AcceptRiskOutcome =
  | { outcome: 'unknown-message' }
  | { outcome: 'not-owner'; owner: string }
  | { outcome: 'not-security-member' }
  | { outcome: 'no-reason' }
  | { outcome: 'invalid-days' }
  | { outcome: 'accepted'; until: Date; message: PostureMessage };

export interface AcceptRiskDeps {
  store: PostureStore;
  audit: HygieneAudit;
  clock: Clock;
  /**
   * Whether the person is in the security channel now (asked at each click and submission: a
   * public channel's message can be clicked by anyone in the workspace who opens it).
   */
  isSecurityMember: (slackUserId: string) => Promise<boolean>;
}

/**
 * Who may accept the findings of `message`: the owner the DM went to, or for a security-channel
 * post a member of that channel. Checked when the button is clicked and again at submission.
 */
export async function mayAcceptRisk(
  deps: Pick<AcceptRiskDeps, 'isSecurityMember'>,
  message: PostureMessage,
  slackUserId: string,
): Promise<AcceptRiskOutcome | undefined> {
  if (message.slackUserId)
    return message.slackUserId === slackUserId
      ? undefined
      : { outcome: 'not-owner', owner: message.slackUserId };
  return (await deps.isSecurityMember(slackUserId)) ? undefined : { outcome: 'not-security-member' };
}

export async function acceptPostureRisk(
  deps: AcceptRiskDeps,
  input: { messageId: string | undefined; slackUserId: string; reason: string; days: number },
): Promise<AcceptRiskOutcome> {
  const message = input.messageId ? await deps.store.getMessage(input.messageId) : undefined;
  if (!message) return { outcome: 'unknown-message' };
  const refused = await mayAcceptRisk(deps, message, input.slackUserId);
  if (refused) return refused;
  const reason = input.reason.trim();
  if (!reason) return { outcome: 'no-reason' };
  if (!(ACCEPT_RISK_DAYS as readonly number[]).includes(input.days)) return { outcome: 'invalid-days' };
  const now = deps.clock.now();
  const until = new Date(now + input.days * DAY_MS);
  for (const findingId of message.findingIds) {
    await deps.store.acceptRisk({
      findingId,
      by: input.slackUserId,
      reason,
      at: new Date(now).toISOString(),
      until: until.toISOString(),
    });
    await deps.audit({
      type: 'posture.risk-accepted',
      actor: input.slackUserId,
      findingId,
      detail: `risk accepted until ${until.toISOString()}: ${reason}`,
    });
  }
  return { outcome: 'accepted', until, message };
}
