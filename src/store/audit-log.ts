/**
 * The audit trail: a Redis Stream whose entries chain `hash = HMAC-SHA256(key, prev ‖ event)`,
 * keyed with `keys.auditChain` (derived from AWS_ACCESS_HMAC_KEY, never written to Redis), so
 * altering, removing or reordering any entry breaks every hash after it and someone who can
 * write Redis cannot re-chain an edited log. Appends are compare-and-set on the chain head
 * (lua/append-audit.lua); each event is also logged and handed to `forward` (the batched
 * audit-channel poster).
 *
 * Cutting entries off the end (and moving the head back) or deleting the whole stream leaves a
 * chain that is intact by itself; that is what the anchors are for: the worker writes the head to
 * S3 under Object Lock at an interval (src/jobs/audit-anchor.ts) and `verify(anchor)` checks the
 * stream still holds the anchored entry, with that hash, at that position.
 *
 * Upgrade from the unkeyed chain (`sha256(prev ‖ event)`, entries without an `alg` field): keyed
 * entries link onto the old head, so the first keyed entry's HMAC covers the whole legacy part.
 * With the key, verify accepts legacy entries only as a prefix that at least one keyed entry
 * follows; a legacy entry after a keyed one, or a log of legacy entries only, is a finding.
 */
import type { Redis } from 'ioredis';
import { canonicalEvent, type AuditEvent, type AuditLog } from '../domain/audit-event.js';
import type { Logger } from '../logger.js';
import {
  auditKeys,
  chainHash,
  compareStreamIds,
  entryOf,
  KEYED_ALG,
  legacyChainHash,
  sameHex,
  type AuditAnchor,
  type AuditEntry,
  type VerifyResult,
} from './audit-chain.js';
import { runScript } from './lua-scripts.js';

export {
  auditKeys,
  chainHash,
  compareStreamIds,
  KEYED_ALG,
  legacyChainHash,
  type AuditAnchor,
  type AuditEntry,
  type VerifyResult,
} from './audit-chain.js';

/** How long one append may keep losing races before it is reported as failed. */
const APPEND_DEADLINE_MS = 10_000;
const PAGE = 500;

export interface AuditLogOptions {
  /**
   * `keys.auditChain`: keys every new entry and lets verify check keyed entries. The service and
   * the CLI always pass it; without it the log appends legacy unkeyed entries (benchmarks and
   * read-only helpers only) and verify can check legacy entries only.
   */
  chainKey?: Buffer;
  logger?: Logger;
  forward?: (id: string, event: AuditEvent) => Promise<void>;
}

/** Where a walk over the chain starts: after an entry with this hash, at this position. */
interface WalkStart {
  afterId: string;
  prev: string;
  entries: number;
  /** Whether a keyed entry was seen before the start (legacy entries may no longer follow). */
  keyedSeen: boolean;
}

type WalkResult =
  | { ok: true; entries: number; legacy: number; lastId: string; head: string; keyedSeen: boolean }
  | { ok: false; entries: number; legacy: number; entryId: string; problem: string };

export class RedisAuditLog implements AuditLog {
  private tail: Promise<unknown> = Promise.resolve();
  /**
   * The chain head after this process's last append: the next append hashes against it without
   * reading the head first (one round trip instead of two). If another writer moved the head
   * meanwhile, the script refuses and returns the current head, as for any lost race.
   */
  private knownHead: string | undefined;
  private readonly keys: ReturnType<typeof auditKeys>;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly options: AuditLogOptions = {},
  ) {
    this.keys = auditKeys(prefix);
  }

  /**
   * Appends in order; concurrent calls in one process queue up, other processes retry on the
   * head. Rejects exactly when the event could not be appended: a failing `forward` (the
   * audit-channel mirror) is logged, not thrown, so callers that must fail closed on a lost
   * audit event (RequestService.recordStrictly) are not failed by a Slack-side hiccup.
   */
  record(event: AuditEvent): Promise<void> {
    const next = this.tail.then(() => this.append(event));
    this.tail = next.catch(() => undefined);
    return next.then(async (id) => {
      this.options.logger?.info({ audit: event, auditId: id }, `audit ${event.action} ${event.outcome}`);
      try {
        await this.options.forward?.(id, event);
      } catch (error) {
        this.options.logger?.warn({ err: error, auditId: id }, 'audit event appended but not forwarded');
      }
    });
  }

  private link(prev: string, json: string): string {
    const key = this.options.chainKey;
    return key ? chainHash(key, prev, json) : legacyChainHash(prev, json);
  }

  /**
   * Optimistic append: hash against the head we know, let the script refuse if another writer got
   * there first, and retry against the head it returns. Under heavy contention from many
   * processes the retries back off with jitter, bounded by time rather than a count, so an event
   * is never dropped while Redis is healthy.
   */
  private async append(event: AuditEvent): Promise<string> {
    const json = canonicalEvent(event);
    const alg = this.options.chainKey ? KEYED_ALG : '';
    // A deadline, not a time of day: the monotonic clock.
    const deadline = performance.now() + APPEND_DEADLINE_MS;
    let head = this.knownHead ?? (await this.redis.get(this.keys.head)) ?? '';
    // Until this append is settled, the next one reads the head from Redis again.
    this.knownHead = undefined;
    for (let attempt = 0; ; attempt++) {
      const hash = this.link(head, json);
      const [ok, value] = (await runScript(
        this.redis,
        'appendAudit',
        [this.keys.stream, this.keys.head],
        [head, hash, json, alg],
      )) as [number, string];
      if (ok === 1) {
        this.knownHead = hash;
        return value;
      }
      head = value;
      if (performance.now() > deadline) {
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
    return rows.map(([id, raw]) => entryOf(id, raw));
  }

  /** One entry by id, if the stream still has it. */
  async entry(id: string): Promise<AuditEntry | undefined> {
    const rows = (await this.redis.xrange(this.keys.stream, id, id)) as Array<[string, string[]]>;
    const row = rows[0];
    return row ? entryOf(row[0], row[1]) : undefined;
  }

  /**
   * The head, the entry count and the newest entry, read in one MULTI so they agree (the anchor
   * job writes them to S3).
   */
  async snapshot(): Promise<{ head: string; entries: number; newest?: AuditEntry }> {
    const replies = (await this.redis
      .multi()
      .get(this.keys.head)
      .xlen(this.keys.stream)
      .xrevrange(this.keys.stream, '+', '-', 'COUNT', 1)
      .exec()) as Array<[Error | null, unknown]>;
    const failed = replies.find(([error]) => error);
    if (failed) throw failed[0];
    const head = (replies[0]![1] as string | null) ?? '';
    const entries = Number(replies[1]![1]);
    const rows = replies[2]![1] as Array<[string, string[]]>;
    const newest = rows[0] ? entryOf(rows[0][0], rows[0][1]) : undefined;
    return { head, entries, newest };
  }

  /** Checks one entry's link and hash; returns the problem, if any. */
  private check(entry: AuditEntry, prev: string, keyedSeen: boolean): string | undefined {
    if (entry.prev !== prev) return 'does not link to the entry before it';
    if (entry.alg === KEYED_ALG) {
      const key = this.options.chainKey;
      if (!key) return 'is keyed (hmac-sha256) and cannot be checked without AWS_ACCESS_HMAC_KEY';
      if (!sameHex(chainHash(key, entry.prev, entry.raw), entry.hash)) {
        return 'content does not match its keyed hash (altered, or re-chained without the key)';
      }
      return undefined;
    }
    if (entry.alg !== '') return `uses an unknown hash algorithm "${entry.alg.slice(0, 40)}"`;
    if (keyedSeen) return 'is an unkeyed entry after keyed ones (re-chained without the key)';
    if (legacyChainHash(entry.prev, entry.raw) !== entry.hash) return 'content does not match its hash';
    return undefined;
  }

  /** Walks from `start` to the end of the stream, or up to and including `untilId`. */
  private async walk(start: WalkStart, untilId?: string): Promise<WalkResult> {
    let { prev, entries, keyedSeen } = start;
    let cursor = start.afterId;
    let legacy = 0;
    let lastId = start.afterId === '-' ? '' : start.afterId;
    for (;;) {
      const page = await this.read(cursor);
      for (const entry of page) {
        if (untilId && compareStreamIds(entry.id, untilId) > 0) {
          return { ok: true, entries, legacy, lastId, head: prev, keyedSeen };
        }
        entries += 1;
        const problem = this.check(entry, prev, keyedSeen);
        if (problem) return { ok: false, entries, legacy, entryId: entry.id, problem };
        if (entry.alg === KEYED_ALG) keyedSeen = true;
        else legacy += 1;
        prev = entry.hash;
        lastId = entry.id;
      }
      if (page.length < PAGE) break;
      cursor = page[page.length - 1]!.id;
    }
    return { ok: true, entries, legacy, lastId, head: prev, keyedSeen };
  }

  /**
   * Walks the whole chain; names the first entry whose link or hash does not hold. With an
   * anchor, the stream must also still hold the anchored entry with the anchored hash at the
   * anchored position, so entries cut from the end or a deleted stream are found too.
   */
  async verify(anchor?: AuditAnchor): Promise<VerifyResult> {
    const walked = await this.walk({ afterId: '-', prev: '', entries: 0, keyedSeen: false });
    const legacy = walked.legacy > 0 ? { legacy: walked.legacy } : {};
    if (!walked.ok) {
      return {
        ok: false,
        entries: walked.entries,
        entryId: walked.entryId,
        problem: walked.problem,
        ...legacy,
      };
    }
    const { entries, lastId } = walked;
    const fail = (entryId: string, problem: string): VerifyResult => ({
      ok: false,
      entries,
      entryId,
      problem,
      ...legacy,
    });
    const head = (await this.redis.get(this.keys.head)) ?? '';
    if (head !== walked.head) {
      return fail(
        lastId || '(none)',
        'the chain head does not match the newest entry (entries were removed from the end)',
      );
    }
    if (anchor) {
      const problem = await this.checkAnchor(anchor, entries, lastId);
      if (problem) return fail(problem.entryId, problem.problem);
    }
    if (this.options.chainKey && entries > 0 && !walked.keyedSeen) {
      return fail(
        lastId,
        `all ${entries} entries are unkeyed: nothing vouches for them (expected only right after upgrading, before the first new event)`,
      );
    }
    return { ok: true, entries, ...legacy, ...(anchor ? { anchor } : {}) };
  }

  /** The anchored entry must be in the stream, unchanged, at the anchored position. */
  private async checkAnchor(
    anchor: AuditAnchor,
    entries: number,
    lastId: string,
  ): Promise<{ entryId: string; problem: string } | undefined> {
    const when = `the anchor of ${anchor.at}`;
    if (entries === 0) {
      return {
        entryId: '(none)',
        problem: `the audit stream is empty, but ${when} recorded ${anchor.entries} entries up to ${anchor.lastEntryId} (the stream was deleted)`,
      };
    }
    const anchored = await this.entry(anchor.lastEntryId);
    if (!anchored) {
      const cut = compareStreamIds(lastId, anchor.lastEntryId) < 0;
      return {
        entryId: anchor.lastEntryId,
        problem: cut
          ? `the anchored entry is missing: the stream ends at ${lastId} with ${entries} entries, but ${when} recorded ${anchor.entries} (entries were cut from the end)`
          : `the anchored entry is missing from the stream (${when})`,
      };
    }
    if (!sameHex(anchored.hash, anchor.headHash)) {
      return {
        entryId: anchor.lastEntryId,
        problem: `the entry's hash differs from ${when} (the log was rewritten)`,
      };
    }
    // Its position: count the entries up to it (XRANGE - id; COUNT caps the work at the anchor).
    const upTo = await this.countUpTo(anchor.lastEntryId);
    if (upTo !== anchor.entries) {
      return {
        entryId: anchor.lastEntryId,
        problem: `the entry is number ${upTo} in the stream but was number ${anchor.entries} in ${when} (entries before it were removed or added)`,
      };
    }
    return undefined;
  }

  private async countUpTo(id: string): Promise<number> {
    let count = 0;
    let cursor = '-';
    for (;;) {
      const start = cursor === '-' ? '-' : `(${cursor}`;
      const rows = (await this.redis.xrange(this.keys.stream, start, id, 'COUNT', 5000)) as Array<
        [string, string[]]
      >;
      count += rows.length;
      if (rows.length < 5000) return count;
      cursor = rows[rows.length - 1]![0];
    }
  }

  /**
   * Verifies only what was appended since `anchor` (the anchor job's check before it anchors a
   * newer head; without an anchor, from the start): the anchored entry is unchanged and every
   * entry after it, up to and including `untilId`, links and hashes. Entries appended meanwhile
   * are left for the next run. Returns the entry count up to `untilId`.
   */
  async verifySince(
    anchor: AuditAnchor | undefined,
    untilId: string,
  ): Promise<{ ok: true; entries: number } | { ok: false; entryId: string; problem: string }> {
    let start: WalkStart = { afterId: '-', prev: '', entries: 0, keyedSeen: false };
    if (anchor) {
      const anchored = await this.entry(anchor.lastEntryId);
      if (!anchored) {
        return {
          ok: false,
          entryId: anchor.lastEntryId,
          problem: `the entry anchored at ${anchor.at} is missing`,
        };
      }
      if (!sameHex(anchored.hash, anchor.headHash)) {
        return {
          ok: false,
          entryId: anchor.lastEntryId,
          problem: `the entry's hash differs from the anchor of ${anchor.at}`,
        };
      }
      start = {
        afterId: anchor.lastEntryId,
        prev: anchor.headHash,
        entries: anchor.entries,
        keyedSeen: anchored.alg === KEYED_ALG,
      };
    }
    const walked = await this.walk(start, untilId);
    if (!walked.ok) return { ok: false, entryId: walked.entryId, problem: walked.problem };
    if (this.options.chainKey && !walked.keyedSeen) {
      return {
        ok: false,
        entryId: walked.lastId,
        problem: 'no keyed entry vouches for the unkeyed ones yet',
      };
    }
    return { ok: true, entries: walked.entries };
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
        yield entryOf(id, fields);
      }
      if (rows.length < PAGE) return;
      cursor = rows[rows.length - 1]![0];
    }
  }
}
