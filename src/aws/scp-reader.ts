/**
 * Reads the service control policies (SCPs) on an account's path: the root, every OU down to the
 * account's parent, and the account itself, with the management-account credentials the account
 * directory already uses (its OrganizationsClient).
 *
 * Calls per account: DescribeOrganization (who the management account is: SCPs never apply to
 * it), ListRoots (whether the SCP policy type is enabled), ListPoliciesForTarget per level (paged,
 * Filter SERVICE_CONTROL_POLICY), DescribePolicy once per distinct policy (FullAWSAccess is
 * attached everywhere and read once). The OU path comes from the account directory when it starts
 * at a root (discovered accounts); otherwise (a static account without a full path) ListParents
 * walks up from the account. Each is supported by moto 5 (checked against moto_server 5.2).
 */
import { organizationsName } from './organizations-names.js';
import {
  DescribeOrganizationCommand,
  DescribePolicyCommand,
  ListParentsCommand,
  ListPoliciesForTargetCommand,
  ListRootsCommand,
  type OrganizationsClient,
} from '@aws-sdk/client-organizations';
import type { Account } from '../domain/ports.js';
import type { ScpLevel } from '../templates/effective-summary.js';
import { allPages } from './aws-clients.js';
import { toAwsError } from './aws-errors.js';

export interface ScpPath {
  /** Why no SCP applies: the management account, or the SCP policy type not enabled. */
  exempt?: 'management-account' | 'scps-disabled';
  /** Root first, the account last; empty when exempt. */
  levels: ScpLevel[];
}

type Target = { id: string; label: string };

/** Depth bound of the ListParents walk: Organizations nests OUs at most five deep. */
const MAX_DEPTH = 10;

async function pathByParents(client: OrganizationsClient, accountId: string): Promise<Target[]> {
  const path: Target[] = [];
  let child = accountId;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const parent = (await client.send(new ListParentsCommand({ ChildId: child }))).Parents?.[0];
    if (!parent?.Id) break;
    path.unshift(
      parent.Type === 'ROOT' ? { id: parent.Id, label: 'root' } : { id: parent.Id, label: `OU ${parent.Id}` },
    );
    if (parent.Type === 'ROOT') break;
    child = parent.Id;
  }
  return path;
}

export async function readScpPath(
  client: OrganizationsClient,
  account: Account,
  pageSize = 20,
): Promise<ScpPath> {
  try {
    const org = (await client.send(new DescribeOrganizationCommand({}))).Organization;
    if (org?.MasterAccountId === account.id) return { exempt: 'management-account', levels: [] };
    const roots = (await client.send(new ListRootsCommand({}))).Roots ?? [];
    const enabled = roots.some((r) =>
      (r.PolicyTypes ?? []).some((t) => t.Type === 'SERVICE_CONTROL_POLICY' && t.Status === 'ENABLED'),
    );
    if (!enabled) return { exempt: 'scps-disabled', levels: [] };

    const known = account.ouPath;
    const above: Target[] = known[0]?.id.startsWith('r-')
      ? known.map((ou, i) => ({ id: ou.id, label: i === 0 ? 'root' : `OU ${ou.name || ou.id}` }))
      : await pathByParents(client, account.id);
    const targets = [...above, { id: account.id, label: `account ${account.name}` }];

    const documents = new Map<string, unknown>();
    const levels: ScpLevel[] = [];
    for (const target of targets) {
      const summaries = await allPages(async (NextToken) => {
        const r = await client.send(
          new ListPoliciesForTargetCommand({
            TargetId: target.id,
            Filter: 'SERVICE_CONTROL_POLICY',
            MaxResults: pageSize,
            NextToken,
          }),
        );
        return { items: r.Policies ?? [], next: r.NextToken };
      });
      const policies: ScpLevel['policies'] = [];
      for (const summary of summaries) {
        const id = summary.Id!;
        if (!documents.has(id)) {
          const policy = (await client.send(new DescribePolicyCommand({ PolicyId: id }))).Policy;
          documents.set(id, JSON.parse(policy?.Content ?? '{}'));
        }
        policies.push({ id, name: organizationsName(summary.Name ?? id), document: documents.get(id) });
      }
      levels.push({ targetId: target.id, label: target.label, policies });
    }
    return { levels };
  } catch (error) {
    throw toAwsError(error, `reading the SCPs of account ${account.id} from AWS Organizations`);
  }
}
