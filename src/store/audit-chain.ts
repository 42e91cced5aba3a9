/**
 * The audit chain's pure parts: how an entry links to the one before it (keyed HMAC, or the
 * legacy unkeyed sha256), what an entry and an anchor are, and the stream's key names.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AuditEvent } from '../domain/audit-event.js';

/** The `alg` field of a keyed entry. Entries without one are legacy (unkeyed sha256). */
export const KEYED_ALG = 'hmac-sha256';

/** The keyed link: HMAC-SHA256(key, prev ‖ event), hex. */
export function chainHash(key: Buffer, prev: string, eventJson: string): string {
  return createHmac('sha256', key).update(prev).update(eventJson).digest('hex');
}

/** The unkeyed link of entries written before the chain was keyed. */
export function legacyChainHash(prev: string, eventJson: string): string {
  return createHash('sha256').update(prev).update(eventJson).digest('hex');
}

export function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface AuditEntry {
  id: string;
  event: AuditEvent;
  prev: string;
  hash: string;
  /** The event exactly as stored and hashed. */
  raw: string;
  /** 'hmac-sha256' for keyed entries; '' for legacy unkeyed ones. */
  alg: string;
}

/** The chain head as written to S3 at an interval: what the stream must still contain. */
export interface AuditAnchor {
  /** Hash of the newest entry when anchored (the chain head). */
  headHash: string;
  /** Stream id of that entry. */
  lastEntryId: string;
  /** Number of entries up to and including it. */
  entries: number;
  /** ISO 8601 time the anchor was taken. */
  at: string;
}

export type VerifyResult =
  | {
      ok: true;
      entries: number;
      /** Legacy unkeyed entries at the start (only present when there are some). */
      legacy?: number;
      /** The anchor the stream was checked against, when one was given. */
      anchor?: AuditAnchor;
    }
  | { ok: false; entries: number; entryId: string; problem: string; legacy?: number };

export function auditKeys(prefix: string): {
  stream: string;
  head: string;
  posted: string;
  postLock: string;
  /** Set (with Slack's Retry-After as its TTL) while the audit channel is rate-limited. */
  postAfter: string;
} {
  return {
    stream: `${prefix}:audit`,
    head: `${prefix}:audit:head`,
    posted: `${prefix}:audit:posted`,
    postLock: `${prefix}:audit:post-lock`,
    postAfter: `${prefix}:audit:post-after`,
  };
}

export function fieldsOf(raw: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) out[raw[i]!] = raw[i + 1]!;
  return out;
}

export function entryOf(id: string, raw: string[]): AuditEntry {
  const f = fieldsOf(raw);
  let event: AuditEvent;
  try {
    event = JSON.parse(f.event ?? '') as AuditEvent;
  } catch {
    event = { at: '', actor: '', action: 'unreadable', outcome: 'failed' };
  }
  return { id, event, prev: f.prev ?? '', hash: f.hash ?? '', raw: f.event ?? '', alg: f.alg ?? '' };
}

/** Stream ids compare by time, then sequence. */
export function compareStreamIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}
