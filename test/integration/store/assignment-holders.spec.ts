/**
 * The holders of an Identity Center assignment in Redis: the reference count is changed only by
 * Lua scripts, so however many requests end at once, exactly one sees that none is left; the
 * lock serialises work on one assignment and is released only by its owner.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { AssignmentHolders, type AssignmentHold } from '../../../src/store/assignment-holders.js';
import { testRedis, uniquePrefix } from '../../support/services.js';

const hold = (requestId: string, principalId = 'user-1'): AssignmentHold => ({
  requestId,
  accountId: '111111111111',
  instanceArn: 'arn:aws:sso:::instance/ssoins-1234567890abcdef',
  permissionSetArn: 'arn:aws:sso:::instance/ssoins-1234567890abcdef/ps-0123456789abcdef',
  permissionSetName: 'aws-access-readonly',
  principalId,
  userName: 'alice',
  templateName: 'readonly',
  heldSince: 1,
});

describe('AssignmentHolders (Redis)', () => {
  let redis: Redis;
  let cleanup: () => Promise<void>;
  let holders: AssignmentHolders;
  let prefix: string;
  beforeEach(async () => {
    prefix = uniquePrefix('holders');
    ({ redis, cleanup } = await testRedis(prefix));
    holders = new AssignmentHolders(redis, prefix);
  });
  afterEach(async () => cleanup());

  it('counts holders per assignment and finds a request’s hold', async () => {
    expect(await holders.hold(hold('a'))).toBe(1);
    expect(await holders.hold(hold('b'))).toBe(2);
    expect(await holders.hold(hold('b'))).toBe(2); // a retried grant counts once
    expect(await holders.hold(hold('c', 'user-2'))).toBe(1);
    expect((await holders.holdOf('b'))?.requestId).toBe('b');
    expect([...(await holders.heldBy(['a', 'x', 'c']))].sort()).toEqual(['a', 'c']);
  });

  it('of 40 requests ending at once exactly one sees that no holder is left', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `r-${i}`);
    for (const id of ids) await holders.hold(hold(id));
    const released = await Promise.all(ids.map((id) => holders.release(id)));
    expect(released.filter((r) => r?.remaining === 0)).toHaveLength(1);
    expect(new Set(released.map((r) => r?.remaining))).toEqual(
      new Set(Array.from({ length: 40 }, (_, i) => i)),
    );
    expect(await holders.release('r-0')).toBeUndefined();
    expect(await holders.heldBy(ids)).toEqual(new Set());
  });

  it('the lock runs one holder at a time, and a stale owner cannot release the next one’s lock', async () => {
    const order: string[] = [];
    const slow = (name: string) =>
      holders.withLock('assignment:x', async () => {
        order.push(`${name}:in`);
        await new Promise((r) => setTimeout(r, 50));
        order.push(`${name}:out`);
      });
    await Promise.all([slow('a'), slow('b'), slow('c')]);
    for (let i = 0; i < order.length; i += 2)
      expect(order[i]!.split(':')[0]).toBe(order[i + 1]!.split(':')[0]);

    // A lock that expired under its owner is not released by that owner's finally.
    const first = holders.withLock('assignment:y', () => new Promise((r) => setTimeout(r, 200)), {
      ttlMs: 50,
    });
    await new Promise((r) => setTimeout(r, 100));
    let secondRan = false;
    const second = holders.withLock(
      'assignment:y',
      async () => {
        secondRan = true;
        await new Promise((r) => setTimeout(r, 1500));
      },
      { ttlMs: 5000 },
    );
    await first;
    await new Promise((r) => setTimeout(r, 20));
    expect(secondRan).toBe(true);
    // The second owner still holds it: a third waits rather than entering.
    const third = await holders
      .withLock('assignment:y', async () => 'entered', { waitMs: 200 })
      .catch((e: Error) => e.message);
    expect(third).toMatch(/another grant or revoke is changing assignment:y/);
    await second;
  });

  it('keeps session denies until they expire, widening one per user and account', async () => {
    const arn = hold('a').permissionSetArn;
    await holders.addSessionDeny(arn, {
      accountId: '111111111111',
      userName: 'alice',
      issuedBefore: 100,
      until: 1000,
    });
    await holders.addSessionDeny(arn, {
      accountId: '111111111111',
      userName: 'alice',
      issuedBefore: 200,
      until: 900,
    });
    await holders.addSessionDeny(arn, {
      accountId: '222222222222',
      userName: 'alice',
      issuedBefore: 50,
      until: 500,
    });
    expect(await holders.sessionDenies(arn, 0)).toEqual([
      { accountId: '111111111111', userName: 'alice', issuedBefore: 200, until: 1000 },
      { accountId: '222222222222', userName: 'alice', issuedBefore: 50, until: 500 },
    ]);
    expect(await holders.sessionDenies(arn, 600)).toHaveLength(1);
    expect(await holders.sessionDenies(arn, 0)).toHaveLength(1); // the expired one is gone for good
  });

  it('pruning an expired deny never deletes one a revoke widened after it was read', async () => {
    const arn = hold('a').permissionSetArn;
    const alice = { accountId: '111111111111', userName: 'alice' };
    await holders.addSessionDeny(arn, { ...alice, issuedBefore: 100, until: 500 });
    // A revoke (under the assignment's lock, not the permission set's) widens alice's deny right
    // after the prune has read the hash: the interleaving is forced through a proxy of the client.
    let widened = false;
    const racing = new Proxy(redis, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (name !== 'hgetall' || typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          const read = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (!widened) {
            widened = true;
            await holders.addSessionDeny(arn, { ...alice, issuedBefore: 700, until: 5000 });
          }
          return read;
        };
      },
    });
    const pruning = new AssignmentHolders(racing, prefix);
    expect(await pruning.sessionDenies(arn, 600)).toEqual([]);
    expect(widened).toBe(true);
    expect(await holders.sessionDenies(arn, 600)).toEqual([{ ...alice, issuedBefore: 700, until: 5000 }]);
  });
});
