/**
 * What a grant will really allow in one account: the template's access-level summary after the
 * organization's service control policies (SCPs) on the account's path. Computed when a request
 * is prepared and kept on the request as a snapshot, so every renderer (approval message,
 * confirmation, DMs) shows the same thing without asking AWS again.
 *
 * Three outcomes, never confused: computed (`summary`), exempt (the management account, or SCPs
 * not enabled: the template summary is the effective one), and `unavailable` (Organizations could
 * not be read and nothing was cached: renderers show the template summary with a note, and the
 * request goes on; a transient error never blocks an approval, and no effective summary is ever
 * claimed that was not computed).
 */
import { refusal, type Refusal } from './policy/refusal.js';
import type { AccessLevel, AccessLevelSummary, Account } from './ports.js';

/** The SCP (or the level whose allow list misses them) that removes the most asked-for actions. */
export interface ScpRemoval {
  /** An SCP's name (explicit Deny), or the names of a level's SCPs (no Allow there). */
  scpName: string;
  /** `deny`: an SCP statement denies; `allow-list`: no SCP at `level` allows. */
  kind: 'deny' | 'allow-list';
  /** Where it is attached, e.g. `OU Workloads`, `root`, `account prod`. */
  level: string;
  /** Actions of the template it removes. */
  removed: number;
  /** Services it removes actions on, most removed first (at most 5). */
  services: string[];
  /** The access level it removes the most of, and whether it removes all of it on `services`. */
  mainLevel: AccessLevel;
  removesAllOfLevel: boolean;
}

export interface EffectiveAccess {
  /** Actions the template allows before SCPs (its own access summary's count). */
  asked: number;
  /** Actions left after SCPs. Absent when unavailable. */
  allowed?: number;
  /** The summary after SCPs; absent when unavailable. */
  summary?: AccessLevelSummary;
  deniedBy?: ScpRemoval;
  /** Organizations could not be read and nothing was cached. */
  unavailable?: true;
  /** SCPs do not apply: the management account, or SCPs not enabled in the organization. */
  exempt?: 'management-account' | 'scps-disabled';
  /** SCP statements the evaluation did not count (conditional or resource-scoped denies). */
  notes?: string[];
  /** In a request's snapshot: services past the listed ones (the summary keeps the first few). */
  otherServices?: number;
  /** Services the SCPs reduce, most removed first: the levels before and after. */
  changes?: ServiceChange[];
}

export interface ServiceChange {
  service: string;
  before: Record<AccessLevel, number>;
  after: Record<AccessLevel, number>;
}

/** The port: the effective access of a template in an account (never throws). */
export interface EffectiveAccessReader {
  forAccount(account: Account, templateName: string): Promise<EffectiveAccess>;
}

/** True when the SCPs leave nothing of what the template asked for (computed, not assumed). */
export function leavesNothing(effective: EffectiveAccess | undefined): boolean {
  return (
    !!effective &&
    !effective.unavailable &&
    !effective.exempt &&
    effective.asked > 0 &&
    effective.allowed === 0
  );
}

/** "SCP deny-prod-writes removes all Write actions on s3, ec2…" in plain text (escape to render). */
export function removalText(removal: ScpRemoval): string {
  const services = `${removal.services.join(', ')}${removal.services.length >= 5 ? '…' : ''}`;
  const what = removal.removesAllOfLevel
    ? `all ${removal.mainLevel} actions on ${services}`
    : `${removal.removed} action${removal.removed === 1 ? '' : 's'} (mostly ${removal.mainLevel}) on ${services}`;
  return removal.kind === 'deny'
    ? `SCP ${removal.scpName} (${removal.level}) removes ${what}`
    : `no SCP on ${removal.level} (${removal.scpName}) allows ${what}`;
}

/** One line for the requester and the audit: what the SCPs leave, in plain text. */
export function effectiveAccessLine(effective: EffectiveAccess | undefined): string | undefined {
  if (!effective) return undefined;
  if (effective.unavailable)
    return 'SCPs could not be read: the access shown is the template’s, before SCPs.';
  if (effective.exempt) return undefined;
  if (effective.allowed === effective.asked) return 'SCPs leave the whole template in this account.';
  const removed = effective.deniedBy ? `; ${removalText(effective.deniedBy)}` : '';
  return `SCPs leave ${effective.allowed} of the template’s ${effective.asked} actions in this account${removed}.`;
}

/** Services a request's snapshot keeps: what the messages list; the rest are counted. */
export const SNAPSHOT_SERVICES = 8;

/**
 * The small copy a request carries: the services the SCPs reduce first, then the others, the
 * first few kept and the rest counted; the changes likewise.
 */
export function snapshotOf(effective: EffectiveAccess): EffectiveAccess {
  const capped = capNotes(effective);
  const changes = capped.changes?.slice(0, SNAPSHOT_SERVICES);
  const services = capped.summary?.services ?? [];
  if (!capped.summary || services.length <= SNAPSHOT_SERVICES)
    return { ...capped, ...(changes ? { changes } : {}) };
  const reduced = new Set(changes?.map((c) => c.service));
  const ordered = [
    ...services.filter((s) => reduced.has(s.service)),
    ...services.filter((s) => !reduced.has(s.service)),
  ];
  return {
    ...capped,
    summary: { ...capped.summary, services: ordered.slice(0, SNAPSHOT_SERVICES) },
    otherServices: services.length - SNAPSHOT_SERVICES + (capped.otherServices ?? 0),
    ...(changes ? { changes } : {}),
  };
}

/** Notes kept in a snapshot: one per SCP with uncounted denies could be dozens. */
const SNAPSHOT_NOTES = 3;

function capNotes(effective: EffectiveAccess): EffectiveAccess {
  const notes = effective.notes ?? [];
  if (notes.length <= SNAPSHOT_NOTES) return effective;
  return {
    ...effective,
    notes: [
      ...notes.slice(0, SNAPSHOT_NOTES),
      `…and ${notes.length - SNAPSHOT_NOTES} more SCPs with uncounted denies`,
    ],
  };
}

const LEVELS: AccessLevel[] = ['List', 'Read', 'Write', 'Permissions management', 'Tagging'];

/** `s3: Write 60 → 12 · Tagging 4 → 0`, or `ec2: all 120 actions removed` (plain text). */
export function changeText(change: ServiceChange): string {
  const after = LEVELS.reduce((n, l) => n + change.after[l], 0);
  if (after === 0) {
    const before = LEVELS.reduce((n, l) => n + change.before[l], 0);
    return `${change.service}: all ${before} action${before === 1 ? '' : 's'} removed`;
  }
  const parts = LEVELS.filter((l) => change.before[l] !== change.after[l]).map(
    (l) => `${l} ${change.before[l]} → ${change.after[l]}`,
  );
  return `${change.service}: ${parts.join(' · ')}`;
}

/** The refusal when the SCPs leave nothing of the template (a computed result, never a guess). */
export function scpRefusal(
  effective: EffectiveAccess | undefined,
  templateName: string,
  accountName: string,
): Refusal | undefined {
  if (!leavesNothing(effective)) return undefined;
  const by = effective!.deniedBy;
  const who = !by
    ? 'the SCPs'
    : by.kind === 'deny'
      ? `SCP ${by.scpName} (${by.level})`
      : `the SCPs on ${by.level} (${by.scpName})`;
  return refusal(
    'scp-denies-all',
    `${who} leave${who === 'the SCPs' || by?.kind === 'allow-list' ? '' : 's'} nothing of template ${templateName} in account ${accountName}; ask for another template`,
    'template',
  );
}
