import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { AwsError } from '../../../src/aws/aws-errors.js';
import type { GrantEngine } from '../../../src/domain/ports.js';
import { limitRevocations, RevocationLimiter } from '../../../src/jobs/revocation-limiter.js';

const throttling = () => new AwsError('Throttling', true, 'DeleteRole failed: Throttling: Rate exceeded');

describe('RevocationLimiter', () => {
  it('runs at most `concurrency` revocations at once across accounts, and `perAccount` in one account', async () => {
    const limiter = new RevocationLimiter({ concurrency: 2, perAccount: 1, throttleRetries: 0 });
    let now = 0;
    let most = 0;
    const perAccount = new Map<string, number>();
    let mostInOne = 0;
    const revoke = (account: string) =>
      limiter.run(account, async () => {
        now += 1;
        perAccount.set(account, (perAccount.get(account) ?? 0) + 1);
        most = Math.max(most, now);
        mostInOne = Math.max(mostInOne, perAccount.get(account)!);
        await sleep(10);
        now -= 1;
        perAccount.set(account, perAccount.get(account)! - 1);
      });
    await Promise.all(['a', 'a', 'b', 'b', 'c', 'c', 'd'].map(revoke));
    expect(most).toBe(2);
    expect(mostInOne).toBe(1);
    expect(limiter.counts).toEqual({ attempts: 7, throttled: 0, gaveUp: 0 });
  });

  it('a throttle pauses the whole account for the back-off, then the revocation is tried again', async () => {
    const limiter = new RevocationLimiter({
      concurrency: 10,
      perAccount: 1,
      throttleRetries: 3,
      backoffMs: 200,
    });
    const starts: number[] = [];
    let fails = 1;
    const first = limiter.run('a', async () => {
      starts.push(performance.now());
      if (fails-- > 0) throw throttling();
      return 'first';
    });
    const second = limiter.run('a', async () => {
      starts.push(performance.now());
      return 'second';
    });
    expect(await Promise.all([first, second])).toEqual(['first', 'second']);
    // The retry waited at least half the back-off (the other half is jitter).
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(99);
    expect(limiter.counts).toEqual({ attempts: 3, throttled: 1, gaveUp: 0 });
  });

  it('after `throttleRetries` retries the throttling error goes to the job; other errors go at once', async () => {
    const limiter = new RevocationLimiter({
      concurrency: 10,
      perAccount: 1,
      throttleRetries: 2,
      backoffMs: 1,
    });
    await expect(limiter.run('a', async () => Promise.reject(throttling()))).rejects.toThrow(/Throttling/);
    expect(limiter.counts).toEqual({ attempts: 3, throttled: 3, gaveUp: 1 });
    let tries = 0;
    await expect(
      limiter.run('b', async () => {
        tries += 1;
        throw new AwsError('AccessDenied', false, 'DeleteRole failed: AccessDenied');
      }),
    ).rejects.toThrow(/AccessDenied/);
    expect(tries).toBe(1);
  });
});

describe('limitRevocations', () => {
  it('keeps every optional method of the engine (identify, roleName, removeForeignRole)', async () => {
    const asked: string[] = [];
    const engine = {
      grant: async () => ({}) as never,
      revoke: async () => ({ removed: true }),
      extend: async () => undefined,
      refreshDelivery: async () => ({}) as never,
      reconcile: async () => ({}) as never,
      roleName: (id: string) => `aws-access-${id}`,
      identify: async (accountId: string, template: string, requester: { slackUserId: string }) => {
        asked.push(`${accountId}/${template}/${requester.slackUserId}`);
        return { principalArn: 'arn:aws:identitystore:::user/u-1' };
      },
      removeForeignRole: async () => ({ removed: true }),
    } satisfies GrantEngine;
    const limited = limitRevocations(
      engine,
      new RevocationLimiter({ concurrency: 1, perAccount: 1, throttleRetries: 0 }),
    );
    expect(await limited.identify!('111111111111', 'reader', { slackUserId: 'U1' })).toEqual({
      principalArn: 'arn:aws:identitystore:::user/u-1',
    });
    expect(asked).toEqual(['111111111111/reader/U1']);
    expect(limited.roleName!('r-1')).toBe('aws-access-r-1');
    expect(await limited.removeForeignRole!('111111111111', {} as never)).toEqual({ removed: true });
  });
});
