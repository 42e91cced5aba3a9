/**
 * The audit trail: a Redis Stream whose entries chain `hash = sha256(prev ‖ event)`, so altering,
 * removing or reordering any entry breaks every hash after it. Appends are compare-and-set on the
 * chain head (lua/append-audit.lua); each event is also logged and handed to `forward` (the
 * batched audit-channel poster).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { canonicalEvent, type AuditEvent, type AuditLog } from '../domain/audit-event.js';
import type { Logger } from '../logger.js';
import { runScript } from './lua-scripts.js';

export function chainHash(prev: string, eventJson: string): string {
  return createHash('sha256').update(prev).update(eventJson).digest('hex');
}

export interface AuditEntry {
  id: string;
  event: AuditEvent;
  prev: string;
  hash: string;
  /** The event exactly as stored and hashed. */
  raw: string;
}

export type VerifyResult =
  { ok: true; entries: number } | { ok: false; entries: number; entryId: string; problem: string };

export function auditKeys(prefix: string): {
  stream: string;
  head: string;
  posted: string;
  postLock: string;
} {
  return {
    stream: `${prefix}:audit`,
    head: `${prefix}:audit:head`,
    posted: `${prefix}:audit:posted`,
    postLock: `${prefix}:audit:post-lock`,
  };
}

function fieldsOf(raw: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) out[raw[i]!] = raw[i + 1]!;
  return out;
}

/** How long one append may keep losing races before it is reported as failed. */
const APPEND_DEADLINE_MS = 10_000;
const PAGE = 500;

export class RedisAuditLog implements AuditLog {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly keys: ReturnType<typeof auditKeys>;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly options: {
      logger?: Logger;
      forward?: (id: string, event: AuditEvent) => Promise<void>;
    } = {},
  ) {
    this.keys = auditKeys(prefix);
  }

  /** Appends in order; concurrent calls in one process queue up, other processes retry on the head. */
  record(event: AuditEvent): Promise<void> {
    const next = this.tail.then(() => this.append(event));
    this.tail = next.catch(() => undefined);
    return next.then(async (id) => {
      this.options.logger?.info({ audit: event, auditId: id }, `audit ${event.action} ${event.outcome}`);
      await this.options.forward?.(id, event);
    });
  }

  /**
   * Optimistic append: hash against the head we know, let the script refuse if another writer got
   * there first, and retry against the head it returns. Under heavy contention from many
   * processes the retries back off with jitter, bounded by time rather than a count, so an event
   * is never dropped while Redis is healthy.
   */
  private async append(event: AuditEvent): Promise<string> {
    const json = canonicalEvent(event);
    const deadline = Date.now() + APPEND_DEADLINE_MS;
    let head = (await this.redis.get(this.keys.head)) ?? '';
    for (let attempt = 0; ; attempt++) {
      const [ok, value] = (await runScript(
        this.redis,
        'appendAudit',
        [this.keys.stream, this.keys.head],
        [head, chainHash(head, json), json],
      )) as [number, string];
      if (ok === 1) return value;
      head = value;
      if (Date.now() > deadline) {
        throw new Error('could not append to the audit log: the chain head kept moving');
      }
      if (attempt >= 2) {
        const ceiling = Math.min(50, 2 ** (attempt - 2));
        await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
      }
    }
  }

  /** Entries after `afterId` (exclusive; '-' for the start), oldest first. */
  async read(afterId = '-', count = PAGE): Promise<AuditEntry[]> {
    const start = afterId === '-' ? '-' : `(${afterId}`;
    const rows = (await this.redis.xrange(this.keys.stream, start, '+', 'COUNT', count)) as Array<
      [string, string[]]
    >;
    return rows.map(([id, raw]) => {
      const f = fieldsOf(raw);
      let event: AuditEvent;
      try {
        event = JSON.parse(f.event ?? '') as AuditEvent;
      } catch {
        event = { at: '', actor: '', action: 'unreadable', outcome: 'failed' };
      }
      return { id, event, prev: f.prev ?? '', hash: f.hash ?? '', raw: f.event ?? '' };
    });
  }

  /** Walks the whole chain; names the first entry whose link or hash does not hold. */
  async verify(): Promise<VerifyResult> {
    let prev = '';
    let cursor = '-';
    let entries = 0;
    let lastId = '';
    for (;;) {
      const page = await this.read(cursor);
      for (const entry of page) {
        entries += 1;
        if (entry.prev !== prev) {
          return { ok: false, entries, entryId: entry.id, problem: 'does not link to the entry before it' };
        }
        if (chainHash(entry.prev, entry.raw) !== entry.hash) {
          return { ok: false, entries, entryId: entry.id, problem: 'content does not match its hash' };
        }
        prev = entry.hash;
        lastId = entry.id;
      }
      if (page.length < PAGE) break;
      cursor = page[page.length - 1]!.id;
    }
    const head = (await this.redis.get(this.keys.head)) ?? '';
    if (head !== prev) {
      return {
        ok: false,
        entries,
        entryId: lastId || '(none)',
        problem: 'the chain head does not match the newest entry (entries were removed from the end)',
      };
    }
    return { ok: true, entries };
  }

  /** Every entry at or after `since`, oldest first. */
  async *since(sinceMs: number): AsyncGenerator<AuditEntry> {
    let cursor: string | undefined = `${Math.max(0, Math.floor(sinceMs))}-0`;
    let first = true;
    for (;;) {
      const start: string = first ? cursor! : `(${cursor}`;
      first = false;
      const rows = (await this.redis.xrange(this.keys.stream, start, '+', 'COUNT', PAGE)) as Array<
        [string, string[]]
      >;
      for (const [id, fields] of rows) {
        const f = fieldsOf(fields);
        const raw = f.event ?? '{}';
        yield { id, event: JSON.parse(raw) as AuditEvent, prev: f.prev ?? '', hash: f.hash ?? '', raw };
      }
      if (rows.length < PAGE) return;
      cursor = rows[rows.length - 1]![0];
    }
  }
}
