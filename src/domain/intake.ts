/**
 * Intake: a one-line `/aws-access <account> <template> <duration> <reason>` is acked at once and
 * handed to a job (jobs/intake-worker.ts), which checks it, creates the request, announces it and
 * answers the requester through the command's response_url. These are the ports between the
 * Slack side, which takes the command and says things, and the job, which decides nothing itself
 * (the RequestService does).
 */
import type { AccessRequest } from './access-request.js';
import type { Refusal } from './approval-policy.js';
import type { GroupView } from './request-group.js';
import type { RequestDraft } from './requests/types.js';

/** A one-line request as Slack gave it: who, what, and where to answer. */
export interface IntakeCommand {
  /** Identifies the command (team, user, trigger_id): the job id and the request id derive from it. */
  teamId: string;
  triggerId: string;
  draft: RequestDraft;
  /** Slack's response_url for this command (valid 30 minutes, up to 5 answers). */
  responseUrl: string;
}

/** Hands a command to the intake job; resolves once the job is stored (one Redis round trip). */
export interface IntakeQueue {
  submit(command: IntakeCommand): Promise<void>;
}

/** What the requester is told once the job has run (or has given up). */
export type IntakeOutcome =
  /** `group`: a multi-account request (`request` is its first account's). */
  | { kind: 'created'; request: AccessRequest; group?: GroupView }
  | { kind: 'refused'; refusals: Refusal[] }
  /** The grant itself failed (break-glass or auto-approved); the security team is alerted. */
  | { kind: 'grant-failed'; message: string }
  /** The store refused: the requester is at the open-request limit. */
  | { kind: 'limit'; message: string }
  /** Slack or Redis kept failing through every attempt; nothing was created. */
  | { kind: 'failed' };

/** Answers the requester of a command (the Slack side renders the text). */
export interface IntakeReplies {
  answer(responseUrl: string, outcome: IntakeOutcome): Promise<void>;
}
