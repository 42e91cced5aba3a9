/**
 * What the posture sweep, the accept-risk action and the posture digest need from outside:
 * Redis (`store/posture-store.ts`) and Slack (`slack/posture/`). Audit events go through the
 * hygiene auditor, so posture and credential actions share one audit stream.
 */
import type { HygieneAudit, HygieneLog, MessageRef } from '../hygiene/ports.js';
import type { Clock } from '../ports.js';
import type { PostureKind } from './kinds.js';
import type { PostureReviewDeps } from './review-account.js';
import type { PostureFinding } from './types.js';

export interface AccountPosture {
  accountId: string;
  sweptAt: string;
  entityCount: number;
  findings: PostureFinding[];
}

/** A finding someone accepted (or snoozed) with a reason, until a date. */
export interface AcceptedRisk {
  findingId: string;
  by: string;
  reason: string;
  at: string;
  until: string;
}

/** One posture post with buttons, kept so its Accept-risk button knows what it covers. */
export interface PostureMessage {
  id: string;
  /** The owner it was sent to; undefined for the security channel. */
  slackUserId?: string;
  findingIds: string[];
}

export type PostureCounts = Record<PostureKind, number>;

export interface PostureSnapshot {
  week: string;
  counts: PostureCounts;
}

export interface PostureStore {
  saveFindings(account: AccountPosture): Promise<void>;
  getFindings(accountId: string): Promise<AccountPosture | undefined>;
  allFindings(): Promise<AccountPosture[]>;
  acceptRisk(risk: AcceptedRisk): Promise<void>;
  /** The accepted risks among `ids` (expired ones included; the caller compares `until`). */
  acceptedRisks(ids: string[]): Promise<Map<string, AcceptedRisk>>;
  /** How many accepted risks are still in force at `now` (epoch ms). */
  acceptedInForce(now: number): Promise<number>;
  saveMessage(message: PostureMessage): Promise<void>;
  getMessage(id: string): Promise<PostureMessage | undefined>;
  /** Drift finding ids already told for the account (by the daily sweep or after a reconcile). */
  toldDrift(accountId: string): Promise<Set<string>>;
  setToldDrift(accountId: string, ids: string[]): Promise<void>;
  saveSnapshot(snapshot: PostureSnapshot): Promise<void>;
  previousSnapshot(week: string): Promise<PostureSnapshot | undefined>;
}

export interface PostureDigest {
  week: string;
  previousWeek?: string;
  counts: PostureCounts;
  total: number;
  /** Per kind, now minus last week; undefined without an earlier snapshot. */
  change?: PostureCounts;
  /** Accepted risks still in force (left out of the counts). */
  accepted: number;
}

/** The posture messages. Each call is one Slack post; a refused post fails the job (retried). */
export interface PostureNotifier {
  /** New findings of one owner, by DM, with an Accept-risk button carrying `messageId`. */
  ownerFindings(owner: string, messageId: string, findings: PostureFinding[]): Promise<MessageRef>;
  /** New findings nobody owns (and drift), to the security channel, with the same button. */
  securityFindings(accountId: string, messageId: string, findings: PostureFinding[]): Promise<MessageRef>;
  digest(digest: PostureDigest): Promise<void>;
}

export interface PostureSweepDeps {
  review: PostureReviewDeps;
  store: PostureStore;
  notifier: PostureNotifier;
  audit: HygieneAudit;
  clock: Clock;
  log: HygieneLog;
  newId: () => string;
}
