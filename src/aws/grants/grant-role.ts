/** Reads and writes on one grant role that creation, delivery and inventory all need. */
import {
  GetRoleCommand,
  type IAMClient,
  PutRolePolicyCommand,
  type Role,
  type Tag,
} from '@aws-sdk/client-iam';
import { isAwsError, toAwsError } from '../aws-errors.js';

export function tagValue(tags: Tag[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}

export async function findRole(iam: IAMClient, roleName: string): Promise<Role | undefined> {
  try {
    return (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role;
  } catch (error) {
    if (isAwsError(error, 'NoSuchEntity')) return undefined;
    throw toAwsError(error, `reading role ${roleName}`);
  }
}

export function putInline(iam: IAMClient, roleName: string, name: string, policy: unknown) {
  return iam.send(
    new PutRolePolicyCommand({
      RoleName: roleName,
      PolicyName: name,
      PolicyDocument: JSON.stringify(policy),
    }),
  );
}
