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
  // Two keys created in the same second cannot be told apart by the report (second precision):
  // map its slots onto them in one order that IAM's list order and key status cannot change
  // (by key id), so the report's two slots always name two different keys, call after call.
  const candidates = keys
    .filter((k) => k.CreateDate && sameSecond(k.CreateDate, createdAt))
    .sort((a, b) => (a.AccessKeyId ?? '').localeCompare(b.AccessKeyId ?? ''));
  const match =
    candidates.length === 1 ? candidates[0] : candidates.length > 1 ? candidates[key.slot - 1] : undefined;
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
