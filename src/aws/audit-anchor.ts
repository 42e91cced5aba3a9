/**
 * Audit anchors in S3: the audit chain's head (`{ headHash, lastEntryId, entries, at }` plus an
 * HMAC over it) written as one object per anchor, each under Object Lock
 * (`ObjectLockMode` + `ObjectLockRetainUntilDate`), so someone who can rewrite Redis can neither
 * take an anchor back nor forge a new one. The bucket must be created with Object Lock enabled
 * (deploy/aws/audit-anchor-bucket.yaml); the bot only needs s3:PutObject, s3:GetObject and
 * s3:ListBucket on the prefix, never a delete or s3:BypassGovernanceRetention.
 *
 * Object keys sort newest first: `<prefix><9999999999999 - at ms, 13 digits>-<entries>.json`, so
 * one ListObjectsV2 page holds the newest anchors.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ObjectLockMode,
} from '@aws-sdk/client-s3';
import type { AuditAnchor } from '../store/audit-log.js';

export interface AuditAnchorSettings {
  bucket: string;
  prefix: string;
  /** Object Lock retention per anchor, in seconds. */
  retention: number;
  mode: 'GOVERNANCE' | 'COMPLIANCE';
}

/** An anchor object as read back: valid (MAC checks) or a problem naming the object. */
export type ReadAnchor = { key: string; anchor: AuditAnchor } | { key: string; problem: string };

const FORMAT = 1;
const MAX_TIME = 9_999_999_999_999;

/** A key of its own for anchors, derived from the chain key, so an entry hash is never an anchor MAC. */
function anchorKey(chainKey: Buffer): Buffer {
  return createHmac('sha256', chainKey).update('aws-access-bot audit anchor v1').digest();
}

function canonical(anchor: AuditAnchor): string {
  return JSON.stringify({
    v: FORMAT,
    at: anchor.at,
    entries: anchor.entries,
    headHash: anchor.headHash,
    lastEntryId: anchor.lastEntryId,
  });
}

export function anchorMac(chainKey: Buffer, anchor: AuditAnchor): string {
  return createHmac('sha256', anchorKey(chainKey)).update(canonical(anchor)).digest('hex');
}

export function anchorObjectKey(prefix: string, anchor: AuditAnchor): string {
  const inverted = String(MAX_TIME - Date.parse(anchor.at)).padStart(13, '0');
  return `${prefix}${inverted}-${anchor.entries}.json`;
}

/** The S3 client for anchors: the SDK's credential chain; path-style when an endpoint (moto) is set. */
export function createAnchorS3Client(options: { region: string; endpoint?: string }): S3Client {
  return new S3Client({
    region: options.region,
    retryMode: 'standard',
    maxAttempts: 4,
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
  });
}

export class S3AuditAnchors {
  constructor(
    private readonly s3: S3Client,
    private readonly settings: AuditAnchorSettings,
    private readonly chainKey: Buffer,
  ) {}

  /** Where the anchors live, for messages. */
  get location(): string {
    return `s3://${this.settings.bucket}/${this.settings.prefix}`;
  }

  /** Writes one anchor under Object Lock until `at + retention`; returns its object key. */
  async write(anchor: AuditAnchor): Promise<string> {
    const key = anchorObjectKey(this.settings.prefix, anchor);
    const body = JSON.stringify({ ...JSON.parse(canonical(anchor)), mac: anchorMac(this.chainKey, anchor) });
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.settings.bucket,
        Key: key,
        Body: body,
        ContentType: 'application/json',
        ObjectLockMode: this.settings.mode as ObjectLockMode,
        ObjectLockRetainUntilDate: new Date(Date.parse(anchor.at) + this.settings.retention * 1000),
      }),
    );
    return key;
  }

  /** The newest anchors (up to `count` objects), newest first, each checked against its MAC. */
  async newest(count = 20): Promise<ReadAnchor[]> {
    const listed = await this.s3.send(
      new ListObjectsV2Command({
        Bucket: this.settings.bucket,
        Prefix: this.settings.prefix,
        MaxKeys: count,
      }),
    );
    const keys = (listed.Contents ?? []).map((o) => o.Key!).filter(Boolean);
    return Promise.all(keys.map((key) => this.read(key)));
  }

  /**
   * The newest anchor whose MAC checks, and every object among the newest that does not (an
   * object the bot did not write is a finding in itself: someone else wrote to the bucket).
   */
  async latest(
    count = 20,
  ): Promise<{ anchor?: AuditAnchor; key?: string; invalid: Array<{ key: string; problem: string }> }> {
    const read = await this.newest(count);
    const invalid: Array<{ key: string; problem: string }> = [];
    let best: { key: string; anchor: AuditAnchor } | undefined;
    for (const item of read) {
      if ('problem' in item) invalid.push(item);
      else if (!best || Date.parse(item.anchor.at) > Date.parse(best.anchor.at)) best = item;
    }
    return { anchor: best?.anchor, key: best?.key, invalid };
  }

  private async read(key: string): Promise<ReadAnchor> {
    const got = await this.s3.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: key }));
    const text = (await got.Body?.transformToString()) ?? '';
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return { key, problem: 'is not JSON' };
    }
    const { headHash, lastEntryId, entries, at, mac, v } = parsed;
    if (
      v !== FORMAT ||
      typeof headHash !== 'string' ||
      typeof lastEntryId !== 'string' ||
      typeof entries !== 'number' ||
      typeof at !== 'string' ||
      typeof mac !== 'string'
    ) {
      return { key, problem: 'is not an audit anchor of this version' };
    }
    const anchor: AuditAnchor = { headHash, lastEntryId, entries, at };
    const expected = Buffer.from(anchorMac(this.chainKey, anchor), 'utf8');
    const given = Buffer.from(mac, 'utf8');
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      return { key, problem: 'has a MAC that does not verify (not written by this bot, or another key)' };
    }
    return { key, anchor };
  }
}
