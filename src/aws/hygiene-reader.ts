/**
 * Reads what the hygiene sweep needs from one account with a number of IAM calls that does not
 * grow with the number of users:
 *
 * - the credential report (1 GetCredentialReport when fresh; otherwise Generate polls + Get);
 * - GetAccountSummary (root keys, root MFA) and GetAccountPasswordPolicy: 1 each;
 * - owner tags from GetAccountAuthorizationDetails(Filter=User), 1 call per 1,000 users.
 *   ListUsers does not return tags in real IAM, and ListUserTags would be one call per user.
 */
import {
  GetAccountAuthorizationDetailsCommand,
  GetAccountPasswordPolicyCommand,
  GetAccountSummaryCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import type { CredentialReader } from '../domain/hygiene/ports.js';
import type { AccountCredentialState, AccountPasswordPolicy, RootSummary } from '../domain/hygiene/types.js';
import type { AccountClients } from './account-clients.js';
import { allIamPages } from './aws-clients.js';
import { isAwsError } from './aws-errors.js';
import { fetchCredentialReport, type CredentialReportOptions } from './credential-report.js';

/** The largest page GetAccountAuthorizationDetails accepts. */
export const AUTH_DETAILS_PAGE_SIZE = 1000;

export async function readRootSummary(iam: IAMClient): Promise<RootSummary> {
  const out = await iam.send(new GetAccountSummaryCommand({}));
  const map = out.SummaryMap ?? {};
  return {
    accessKeysPresent: (map.AccountAccessKeysPresent ?? 0) > 0,
    mfaEnabled: (map.AccountMFAEnabled ?? 0) > 0,
  };
}

export async function readPasswordPolicy(iam: IAMClient): Promise<AccountPasswordPolicy | null> {
  try {
    const { PasswordPolicy: p } = await iam.send(new GetAccountPasswordPolicyCommand({}));
    if (!p) return null;
    return {
      minimumLength: p.MinimumPasswordLength,
      requireSymbols: p.RequireSymbols,
      requireNumbers: p.RequireNumbers,
      requireUppercase: p.RequireUppercaseCharacters,
      requireLowercase: p.RequireLowercaseCharacters,
      maxAgeDays: p.ExpirePasswords === false ? 0 : p.MaxPasswordAge,
      reusePrevention: p.PasswordReusePrevention,
    };
  } catch (error) {
    // IAM's way of saying "this account has no password policy".
    if (isAwsError(error, 'NoSuchEntity')) return null;
    throw error;
  }
}

export async function readUserTags(iam: IAMClient): Promise<Record<string, Record<string, string>>> {
  const users = await allIamPages(
    (Marker) =>
      iam.send(
        new GetAccountAuthorizationDetailsCommand({
          Filter: ['User'],
          MaxItems: AUTH_DETAILS_PAGE_SIZE,
          Marker,
        }),
      ),
    (page) => page.UserDetailList,
  );
  const tags: Record<string, Record<string, string>> = {};
  for (const user of users) {
    if (!user.UserName) continue;
    tags[user.UserName] = Object.fromEntries(
      (user.Tags ?? []).filter((t) => t.Key && t.Value !== undefined).map((t) => [t.Key!, t.Value!]),
    );
  }
  return tags;
}

export async function readAccountCredentialState(
  iam: IAMClient,
  accountId: string,
  options: CredentialReportOptions,
): Promise<AccountCredentialState> {
  const [report, root, passwordPolicy, userTags] = await Promise.all([
    fetchCredentialReport(iam, accountId, options),
    readRootSummary(iam),
    readPasswordPolicy(iam),
    readUserTags(iam),
  ]);
  return { accountId, report, root, passwordPolicy, userTags };
}

/** {@link CredentialReader} on the broker session of each account. */
export function awsCredentialReader(
  accounts: AccountClients,
  options: CredentialReportOptions,
): CredentialReader {
  return {
    read: async (accountId) => readAccountCredentialState(await accounts.iam(accountId), accountId, options),
  };
}
