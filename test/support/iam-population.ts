/**
 * Generated IAM users whose truth the caller knows (keys used or not, passwords, MFA, owners),
 * created in moto. Shared by the hygiene tests and the hygiene bench; no vitest imports here.
 */
import {
  CreateAccessKeyCommand,
  CreateLoginProfileCommand,
  CreateUserCommand,
  CreateVirtualMFADeviceCommand,
  EnableMFADeviceCommand,
  UpdateAccessKeyCommand,
  UpdateAccountPasswordPolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { LoadedConfig } from '../../src/config/load-config.js';
import type { FakeSlack } from './fake-slack.js';

export const DAY_MS = 86_400_000;

/** What the test made: one IAM user. */
export interface UserTruth {
  name: string;
  /** Per key slot: active, and whether the test used it (so it has a last-used date). */
  keys: Array<{ active: boolean; used: boolean }>;
  password: boolean;
  mfa: boolean;
  owner:
    | { via: 'slack-tag'; slackUserId: string }
    | { via: 'email-tag'; email: string; slackUserId?: string }
    | { via: 'identity-map'; slackUserId: string }
    | { via: 'none' };
}

/** The rule that generates user i; every property varies with a different modulus. */
export function userTruth(i: number, prefix = 'user'): UserTruth {
  const name = `${prefix}-${String(i).padStart(3, '0')}`;
  const keyCount = i % 3;
  const keys = Array.from({ length: keyCount }, (_, j) => ({
    active: !(i % 7 === 0 && j === keyCount - 1),
    used: j === 0 && i % 2 === 0,
  }));
  const password = i % 4 === 0 || i % 4 === 1;
  const mfa = password && i % 8 === 0;
  const ownerKind = i % 5;
  // Slack ids unique per generated population, so two accounts never share an owner by accident.
  const tag = `${prefix.toUpperCase().replace(/[^A-Z0-9]/g, '')}${i}`;
  const owner: UserTruth['owner'] =
    ownerKind === 0
      ? { via: 'slack-tag', slackUserId: `UTAG${tag}` }
      : ownerKind === 1
        ? { via: 'email-tag', email: `${name}@example.com`, slackUserId: `UMAIL${tag}` }
        : ownerKind === 2
          ? { via: 'email-tag', email: `${name}@nowhere.example` }
          : ownerKind === 3
            ? { via: 'identity-map', slackUserId: `UMAP${tag}` }
            : { via: 'none' };
  return { name, keys, password, mfa, owner };
}

export function ownerOf(truth: UserTruth): string | undefined {
  return truth.owner.via === 'none' ? undefined : truth.owner.slackUserId;
}

async function pool<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** Creates the users in moto exactly as their truth says. */
export async function createIamUsers(iam: IAMClient, users: UserTruth[], endpoint: string): Promise<void> {
  await pool(users, 8, async (u) => {
    const tags =
      u.owner.via === 'slack-tag'
        ? [{ Key: 'slack-user', Value: u.owner.slackUserId }]
        : u.owner.via === 'email-tag'
          ? [{ Key: 'email', Value: u.owner.email }]
          : [{ Key: 'team', Value: 'platform' }];
    await iam.send(new CreateUserCommand({ UserName: u.name, Tags: tags }));
    for (const key of u.keys) {
      const created = await iam.send(new CreateAccessKeyCommand({ UserName: u.name }));
      const id = created.AccessKey!.AccessKeyId!;
      if (key.used) {
        // moto records the key's last use on any request signed with it.
        const sts = new STSClient({
          region: 'us-east-1',
          endpoint,
          credentials: { accessKeyId: id, secretAccessKey: created.AccessKey!.SecretAccessKey! },
        });
        await sts.send(new GetCallerIdentityCommand({}));
      }
      if (!key.active)
        await iam.send(new UpdateAccessKeyCommand({ UserName: u.name, AccessKeyId: id, Status: 'Inactive' }));
    }
    if (u.password)
      await iam.send(new CreateLoginProfileCommand({ UserName: u.name, Password: 'Correct-Horse-42!' }));
    if (u.mfa) {
      const device = await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: u.name }));
      await iam.send(
        new EnableMFADeviceCommand({
          UserName: u.name,
          SerialNumber: device.VirtualMFADevice!.SerialNumber!,
          AuthenticationCode1: '123456',
          AuthenticationCode2: '654321',
        }),
      );
    }
  });
}

export async function setWeakPasswordPolicy(iam: IAMClient): Promise<void> {
  await iam.send(
    new UpdateAccountPasswordPolicyCommand({
      MinimumPasswordLength: 8,
      RequireSymbols: true,
      RequireNumbers: true,
      RequireUppercaseCharacters: true,
      RequireLowercaseCharacters: true,
      MaxPasswordAge: 90,
      PasswordReusePrevention: 24,
    }),
  );
}

/** Adds the identity-map entries and Slack users the truths refer to. */
export function wireOwners(
  users: UserTruth[],
  accountId: string,
  loaded: LoadedConfig,
  fake: FakeSlack,
): void {
  for (const u of users) {
    if (u.owner.via === 'identity-map')
      loaded.config.identities.map[u.owner.slackUserId] = {
        principal: `arn:aws:iam::${accountId}:user/${u.name}`,
      };
    if (u.owner.via === 'email-tag' && u.owner.slackUserId)
      fake.addUser({ id: u.owner.slackUserId, email: u.owner.email });
    if (u.owner.via === 'slack-tag') fake.addUser({ id: u.owner.slackUserId });
  }
}
