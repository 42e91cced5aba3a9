/**
 * The one write the hygiene sweep makes: deactivating an access key. The credential report
 * names keys by slot and creation time, not id, so the key id comes from ListAccessKeys for
 * that one user (a call per action, never per user swept). Never deletes anything.
 */
import { ListAccessKeysCommand, UpdateAccessKeyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { allIamPages } from './aws-clients.js';
import type { DeactivationResult, KeyActions } from '../domain/hygiene/ports.js';
import type { AccountClients } from './account-clients.js';

export type { DeactivationResult };

/** Only the last four characters of a key id ever reach a log or a message. */
export function keyIdSuffix(accessKeyId: string): string {
  return `…${accessKeyId.slice(-4)}`;
}

function sameSecond(a: Date, b: Date): boolean {
  return Math.floor(a.getTime() / 1000) === Math.floor(b.getTime() / 1000);
}

export async function deactivateAccessKey(
  iam: IAMClient,
  userName: string,
  key: { slot: 1 | 2; createdAt: string },
): Promise<DeactivationResult> {
  const listed = await allIamPages(
    (Marker) => iam.send(new ListAccessKeysCommand({ UserName: userName, Marker })),
    (page) => page.AccessKeyMetadata,
  );
  const keys = listed.sort((a, b) => (a.CreateDate?.getTime() ?? 0) - (b.CreateDate?.getTime() ?? 0));
  const createdAt = new Date(key.createdAt);
  // The report names a key by slot and creation second only. Two keys created in the same second:
  // a finding is always about an active key, so an active one is meant; only when both are
  // active does the slot decide (the report's slot order is creation order, as IAM lists them).
  const sameSecondKeys = keys.filter((k) => k.CreateDate && sameSecond(k.CreateDate, createdAt));
  const active = sameSecondKeys.filter((k) => k.Status === 'Active');
  const match =
    sameSecondKeys.length <= 1
      ? sameSecondKeys[0]
      : active.length === 1
        ? active[0]
        : active.length > 1
          ? sameSecondKeys[key.slot - 1]
          : sameSecondKeys[0];
  if (!match?.AccessKeyId || !match.CreateDate || !sameSecond(match.CreateDate, createdAt))
    return { outcome: 'not-found' };
  const suffix = keyIdSuffix(match.AccessKeyId);
  if (match.Status === 'Inactive') return { outcome: 'already-inactive', accessKeyIdSuffix: suffix };
  await iam.send(
    new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: match.AccessKeyId, Status: 'Inactive' }),
  );
  return { outcome: 'deactivated', accessKeyIdSuffix: suffix };
}

/** {@link KeyActions} on the broker session of each account. */
export function awsKeyActions(accounts: AccountClients): KeyActions {
  return {
    deactivate: async (accountId, userName, key) =>
      deactivateAccessKey(await accounts.iam(accountId), userName, key),
  };
}
