/**
 * A multi-account request: a group of ordinary AccessRequests, one per account (each with its own
 * state machine, signature, role, jobs and audit events), linked by their `groupId`, plus this
 * small record of the group itself (who asked, the members in order, the one approvers' message).
 * The lifecycle is in requests/group.ts; docs/slack-flow.md explains the decisions.
 */
import type { AccessRequest } from './access-request.js';
import type { ApprovalRule } from './approval-policy.js';
import type { Delivery } from './ports.js';

export interface RequestGroup {
  /** `g-…`; shares the request-id alphabet, so `/aws-access revoke <id>` takes either. */
  id: string;
  requesterId: string;
  /** The account requests, in the order the accounts were named. */
  memberIds: string[];
  createdAt: number;
  /** Where the one approvers' message lives, so it is redrawn in place. */
  message?: { channel: string; ts: string };
}

/** A group with its members as stored now (a member whose record has expired is left out). */
export interface GroupView {
  group: RequestGroup;
  members: AccessRequest[];
}

export interface RequestGroupStore {
  /** Stores a new group; false when its id is taken (an intake job that ran twice). */
  create(group: RequestGroup): Promise<boolean>;
  get(id: string): Promise<RequestGroup | undefined>;
  setMessage(id: string, message: { channel: string; ts: string }): Promise<void>;
  /**
   * Claims granting the group for this caller (once every account is approved): true for the
   * first caller only, so two clicks completing it at once do not both provision its accounts.
   * A claim made at or before `takeOverBefore` (reconcile's repair: its holder died) may be taken.
   */
  claimGrant(id: string, at: number, takeOverBefore?: number): Promise<boolean>;
}

/** What the group's people are told; the Slack notifier implements it. */
export interface GroupNotifier {
  /** Posts the one approvers' message listing every account; returns where it is. */
  groupApprovalRequested(
    view: GroupView,
    rule: ApprovalRule,
  ): Promise<{ channel: string; ts: string } | undefined>;
  /** Redraws the group's approvers' message; `note` says what just happened. */
  groupChanged(view: GroupView, note?: string): Promise<void>;
  /** One DM listing every grant made (deliveries may hold credentials: never stored). */
  groupDelivered(
    view: GroupView,
    grants: ReadonlyArray<{ request: AccessRequest; delivery: Delivery }>,
  ): Promise<void>;
}
