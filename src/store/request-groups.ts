/**
 * Multi-account request groups in Redis: one hash per group (`<prefix>:group:<id>`), written once
 * (in one Lua step with its TTL; an intake job that runs twice never overwrites), with the approvers'
 * message ref set later. The members are ordinary request hashes (request-store.ts) carrying the
 * group id. A group is kept as long as its members can be: `ttlSeconds` (requests.retainFinished
 * plus durations.maxTotal, so it outlives the longest grant and the retention of its members).
 */
import type { Redis } from 'ioredis';
import type { RequestGroup, RequestGroupStore } from '../domain/request-group.js';
import { runScript } from './lua-scripts.js';

export class RedisRequestGroupStore implements RequestGroupStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds?: number,
  ) {}

  private key(id: string): string {
    return `${this.prefix}:group:${id}`;
  }

  async create(group: RequestGroup): Promise<boolean> {
    const fields: Record<string, string> = {
      id: group.id,
      requesterId: group.requesterId,
      memberIds: JSON.stringify(group.memberIds),
      createdAt: String(group.createdAt),
      ...(group.message ? { message: JSON.stringify(group.message) } : {}),
    };
    const created = await runScript(
      this.redis,
      'createGroup',
      [this.key(group.id)],
      [this.ttlSeconds ?? '', ...Object.entries(fields).flat()],
    );
    return created === 1;
  }

  async get(id: string): Promise<RequestGroup | undefined> {
    const hash = await this.redis.hgetall(this.key(id));
    if (!hash.id || !hash.requesterId || !hash.memberIds) return undefined;
    return {
      id: hash.id,
      requesterId: hash.requesterId,
      memberIds: JSON.parse(hash.memberIds) as string[],
      createdAt: Number(hash.createdAt),
      ...(hash.message ? { message: JSON.parse(hash.message) as RequestGroup['message'] } : {}),
    };
  }

  async claimGrant(id: string, at: number, takeOverBefore?: number): Promise<boolean> {
    const claimed = await runScript(
      this.redis,
      'claimGroupGrant',
      [this.key(id)],
      [at, takeOverBefore ?? ''],
    );
    return claimed === 1;
  }

  async setMessage(id: string, message: { channel: string; ts: string }): Promise<void> {
    // Only on a group that exists: never recreate an expired one as a bare message ref.
    const key = this.key(id);
    if (await this.redis.exists(key)) await this.redis.hset(key, 'message', JSON.stringify(message));
  }
}
