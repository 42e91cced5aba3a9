/**
 * Refusals: why something was not done, as data the Slack side words and places in a form; and
 * the one check on a person that every ask and every decision starts with.
 */
export type RequestField = 'account' | 'template' | 'duration' | 'reason';

export type RefusalCode =
  | 'requester-ineligible'
  | 'requester-not-in-group'
  | 'no-identity'
  | 'unknown-account'
  | 'unknown-template'
  | 'template-not-allowed'
  | 'no-rule'
  | 'duration-too-long'
  | 'duration-too-short'
  | 'duration-invalid'
  | 'reason-required'
  | 'reason-too-long'
  | 'reason-pattern'
  | 'self-approval'
  | 'not-an-approver'
  | 'on-call-unconfirmed'
  | 'already-approved'
  | 'not-pending'
  | 'not-found'
  | 'not-yours'
  | 'wrong-state'
  | 'extension-limit'
  | 'extension-needs-approval'
  | 'not-break-glass'
  | 'already-reviewed'
  | 'same-person'
  | 'break-glass-not-allowed'
  | 'not-allowed-at-grant'
  | 'request-expired'
  | 'grant-ended'
  | 'open-request-limit'
  | 'scp-denies-all'
  | 'too-many-accounts'
  | 'unknown-ou'
  | 'ambiguous-ou'
  | 'multi-account-break-glass'
  | 'too-few-approvers';

/** Why something was not done, in words the person can act on; `field` places it in a form. */
export interface Refusal {
  code: RefusalCode;
  message: string;
  field?: RequestField;
}

export function refusal(code: RefusalCode, message: string, field?: RequestField): Refusal {
  return { code, message, ...(field ? { field } : {}) };
}

/** A Slack profile, reduced to what decides whether someone may ask or approve. */
export interface Person {
  id: string;
  name?: string;
  email?: string;
  /**
   * False when Slack says the person has not confirmed `email` (`is_email_confirmed`): such an
   * address was never proven theirs, so it never matches an on-call schedule (see on-call.ts).
   */
  emailConfirmed?: boolean;
  deleted?: boolean;
  isBot?: boolean;
  /** Multi-channel guest. */
  isRestricted?: boolean;
  /** Single-channel guest. */
  isUltraRestricted?: boolean;
}

/** Deleted accounts, guests and bots never request or approve access. */
export function checkPerson(person: Person | undefined): Refusal | undefined {
  if (!person) return refusal('requester-ineligible', 'your Slack account could not be found');
  if (person.deleted) return refusal('requester-ineligible', 'deactivated Slack accounts cannot use this');
  if (person.isBot) return refusal('requester-ineligible', 'bots cannot request or approve AWS access');
  if (person.isRestricted || person.isUltraRestricted) {
    return refusal('requester-ineligible', 'guest accounts cannot request or approve AWS access');
  }
  return undefined;
}
