/**
 * What reconcile sees in one account: the roles under `/aws-access/`, the bot's own (named
 * `aws-access-<id>` at exactly that path) sorted into orphaned, overdue and tag-mismatched
 * against the store's active grants, and everything else there reported as foreign.
 */
import { ListRolesCommand, ListRoleTagsCommand, type Role, type Tag } from '@aws-sdk/client-iam';
import type { ManagedRole, ReconcileReport } from '../../domain/ports.js';
import { requestIdOfRole, ROLE_PATH, TAG } from '../../templates/grant-policies.js';
import { allIamPages } from '../aws-clients.js';
import { awsCall, isAwsError } from '../aws-errors.js';
import type { RoleGrantEngineOptions } from './grant-options.js';
import { tagValue } from './grant-role.js';

/** Roles whose tags reconcile reads at once: faster than one by one, gentle on IAM throttling. */
const RECONCILE_TAG_CONCURRENCY = 8;

export async function reconcileAccount(
  options: RoleGrantEngineOptions,
  accountId: string,
  activeGrants: ReadonlyMap<string, Date>,
): Promise<ReconcileReport> {
  const iam = await options.clients.iam(accountId);
  const now = options.clock.now();
  const roles = await awsCall(`listing ${ROLE_PATH} roles in ${accountId}`, () =>
    allIamPages(
      (Marker) => iam.send(new ListRolesCommand({ PathPrefix: ROLE_PATH, Marker })),
      (r) => r.Roles,
    ),
  );
  const report: ReconcileReport = {
    orphaned: [],
    overdue: [],
    missing: [],
    foreign: [],
    tagMismatches: [],
  };
  const seen = new Set<string>();
  // ListRoles PathPrefix=/aws-access/ also returns sub-paths (/aws-access/x/hidden/). The bot
  // only ever makes `aws-access-<id>` at exactly /aws-access/; anything else there is foreign.
  const candidates: Role[] = [];
  for (const role of roles) {
    if (!role.RoleName || !role.Path?.startsWith(ROLE_PATH)) continue;
    const requestId = requestIdOfRole(role.RoleName);
    if (role.Path === ROLE_PATH && requestId) candidates.push(role);
    else report.foreign!.push({ accountId, roleName: role.RoleName, path: role.Path });
  }
  // ListRoles does not return tags on AWS; ask for them a few roles at a time.
  const tagged: Array<{ roleName: string; tags: Tag[] | undefined }> = [];
  for (let i = 0; i < candidates.length; i += RECONCILE_TAG_CONCURRENCY) {
    const batch = candidates.slice(i, i + RECONCILE_TAG_CONCURRENCY);
    tagged.push(
      ...(await Promise.all(
        batch.map(async (role) => ({
          roleName: role.RoleName!,
          tags: await awsCall(`reading tags of ${role.RoleName}`, async () =>
            allIamPages(
              (Marker) => iam.send(new ListRoleTagsCommand({ RoleName: role.RoleName, Marker })),
              (r) => r.Tags,
            ).catch((e) => {
              if (isAwsError(e, 'NoSuchEntity')) return undefined;
              throw e;
            }),
          ),
        })),
      )),
    );
  }
  for (const { roleName, tags } of tagged) {
    if (!tags) continue;
    // The name is the request id: tags can be rewritten by anyone with iam:TagRole.
    const requestId = requestIdOfRole(roleName)!;
    const tagRequestId = tagValue(tags, TAG.requestId);
    const expiresTag = tagValue(tags, TAG.expiresAt);
    const expiresAt = expiresTag ? new Date(expiresTag) : undefined;
    const managed: ManagedRole = {
      accountId,
      roleName,
      requestId,
      expiresAt,
      ...(tagRequestId !== requestId ? { mismatchedTagRequestId: tagRequestId ?? '' } : {}),
    };
    if (managed.mismatchedTagRequestId !== undefined) report.tagMismatches!.push(managed);
    seen.add(requestId);
    const active = activeGrants.get(requestId);
    if (!active) report.orphaned.push(managed);
    else if (
      (expiresAt && !Number.isNaN(expiresAt.getTime()) && expiresAt.getTime() <= now) ||
      active.getTime() <= now
    ) {
      report.overdue.push(managed);
    }
  }
  for (const requestId of activeGrants.keys()) if (!seen.has(requestId)) report.missing.push(requestId);
  return report;
}
