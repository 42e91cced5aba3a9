/**
 * Deactivating the key a credential-report row names. The report gives only a slot and the
 * creation second, so two keys of one user created in the same second must still map to two
 * different keys, whatever order IAM lists them in after the first one is deactivated.
 */
import type { IAMClient } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { deactivateAccessKey } from '../../../src/aws/hygiene-actions.js';

interface FakeKey {
  AccessKeyId: string;
  CreateDate: Date;
  Status: 'Active' | 'Inactive';
}

/** ListAccessKeys answers the keys most recently updated last, as IAM's order may change. */
function fakeIam(keys: FakeKey[]): { iam: IAMClient; updated: string[] } {
  const updated: string[] = [];
  const send = async (command: { constructor: { name: string }; input: Record<string, string> }) => {
    if (command.constructor.name === 'ListAccessKeysCommand') {
      return { AccessKeyMetadata: keys.map((k) => ({ ...k })), IsTruncated: false };
    }
    if (command.constructor.name === 'UpdateAccessKeyCommand') {
      const key = keys.find((k) => k.AccessKeyId === command.input.AccessKeyId)!;
      key.Status = 'Inactive';
      keys.splice(keys.indexOf(key), 1);
      keys.push(key);
      updated.push(key.AccessKeyId);
      return {};
    }
    throw new Error(`unexpected ${command.constructor.name}`);
  };
  return { iam: { send } as unknown as IAMClient, updated };
}

describe('deactivating the key a report row names', () => {
  it('two keys created in the same second: slot 1 and slot 2 deactivate two different keys', async () => {
    const second = new Date('2026-08-01T10:00:00Z');
    const { iam, updated } = fakeIam([
      { AccessKeyId: 'AKIAEXAMPLEBBBB', CreateDate: second, Status: 'Active' },
      { AccessKeyId: 'AKIAEXAMPLEAAAA', CreateDate: second, Status: 'Active' },
    ]);
    const key = (slot: 1 | 2) => ({ slot, createdAt: second.toISOString() });
    expect(await deactivateAccessKey(iam, 'dana', key(1))).toMatchObject({ outcome: 'deactivated' });
    expect(await deactivateAccessKey(iam, 'dana', key(2))).toMatchObject({ outcome: 'deactivated' });
    expect(new Set(updated)).toEqual(new Set(['AKIAEXAMPLEAAAA', 'AKIAEXAMPLEBBBB']));
  });

  it('an active and an inactive key created in the same second: the active one is deactivated, whatever the slot', async () => {
    const second = new Date('2026-08-01T10:00:00Z');
    for (const slot of [1, 2] as const) {
      const { iam, updated } = fakeIam([
        { AccessKeyId: 'AKIAEXAMPLEOLD1', CreateDate: second, Status: 'Inactive' },
        { AccessKeyId: 'AKIAEXAMPLENEW1', CreateDate: second, Status: 'Active' },
      ]);
      expect(await deactivateAccessKey(iam, 'finn', { slot, createdAt: second.toISOString() })).toMatchObject(
        {
          outcome: 'deactivated',
        },
      );
      expect(updated).toEqual(['AKIAEXAMPLENEW1']);
    }
  });

  it('a key the report names but IAM no longer has is not found; an inactive one is left alone', async () => {
    const { iam, updated } = fakeIam([
      { AccessKeyId: 'AKIAEXAMPLECCCC', CreateDate: new Date('2026-08-02T10:00:00Z'), Status: 'Inactive' },
    ]);
    expect(await deactivateAccessKey(iam, 'erin', { slot: 1, createdAt: '2026-08-01T10:00:00Z' })).toEqual({
      outcome: 'not-found',
    });
    expect(
      await deactivateAccessKey(iam, 'erin', { slot: 1, createdAt: '2026-08-02T10:00:00Z' }),
    ).toMatchObject({
      outcome: 'already-inactive',
    });
    expect(updated).toEqual([]);
  });
});
