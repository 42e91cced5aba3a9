/**
 * The demo's look at the AWS side, through moto: the IAM users the hygiene sweep will find, and
 * what a grant looks like in IAM (role, path, boundary, tags, policies) before and after revocation.
 */
import { systemClock } from '../src/clock.js';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import type { AccountClients } from '../src/aws/account-clients.js';
import { createBrokerSessions } from '../src/aws/create-aws-services.js';
import type { EnvOptions } from '../src/config/env.js';
import type { AppConfig } from '../src/config/schema.js';

/** The production broker session cache; moto lets any credentials assume the broker anywhere. */
export function brokerClients(env: EnvOptions, config: AppConfig): AccountClients {
  return createBrokerSessions({ clock: systemClock, env, config });
}

export interface DemoIamUser {
  userName: string;
  tags: Record<string, string>;
  /** Who the demo says owns it, for the transcript. */
  story: string;
}

export const HYGIENE_USERS: DemoIamUser[] = [
  {
    userName: 'ci-deploy',
    tags: { 'slack-user': 'U0DAVE', team: 'platform' },
    story: "Dave's CI user, tagged slack-user=U0DAVE",
  },
  {
    userName: 'legacy-backup',
    tags: { team: 'ops' },
    story: 'a forgotten backup user nobody is tagged as owning',
  },
];

/** Creates the users, one access key each (never used), as a long-lived account would have. */
export async function createHygieneUsers(iam: IAMClient, users = HYGIENE_USERS): Promise<void> {
  for (const user of users) {
    await iam.send(
      new CreateUserCommand({
        UserName: user.userName,
        Tags: Object.entries(user.tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
    await iam.send(new CreateAccessKeyCommand({ UserName: user.userName }));
  }
}

export interface RoleView {
  arn: string;
  path: string;
  boundaryArn?: string;
  tags: Record<string, string>;
  managedPolicies: string[];
  inlinePolicies: string[];
  maxSessionDuration?: number;
}

/** The role as IAM has it, or undefined when it does not exist. */
export async function describeRole(iam: IAMClient, roleName: string): Promise<RoleView | undefined> {
  try {
    const { Role: role } = await iam.send(new GetRoleCommand({ RoleName: roleName }));
    if (!role) return undefined;
    const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }));
    const inline = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }));
    return {
      arn: role.Arn ?? '',
      path: role.Path ?? '',
      boundaryArn: role.PermissionsBoundary?.PermissionsBoundaryArn,
      tags: Object.fromEntries((role.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
      managedPolicies: (attached.AttachedPolicies ?? []).map((p) => p.PolicyArn ?? ''),
      inlinePolicies: inline.PolicyNames ?? [],
      maxSessionDuration: role.MaxSessionDuration,
    };
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchEntityException') return undefined;
    throw error;
  }
}
