/**
 * Account assignments (one Identity Center user × one permission set × one account): listed,
 * created and deleted, each change waited on with DescribeAccountAssignment{Creation,Deletion}
 * Status until it is final.
 */
import {
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  ListAccountAssignmentsCommand,
  type AccountAssignment,
} from '@aws-sdk/client-sso-admin';
import { allPages } from '../aws-clients.js';
import { awsCall } from '../aws-errors.js';
import type { IdentityCenterOptions } from './identity-center-options.js';
import { waitForOperation } from './operation-status.js';

export interface AssignmentTarget {
  accountId: string;
  permissionSetArn: string;
  /** Identity Center user id. */
  principalId: string;
  principalType?: 'USER' | 'GROUP';
}

export function listAssignments(
  options: IdentityCenterOptions,
  accountId: string,
  permissionSetArn: string,
): Promise<AccountAssignment[]> {
  return awsCall(`listing assignments of ${permissionSetArn} in ${accountId}`, () =>
    allPages(async (token) => {
      const page = await options.ssoAdmin.send(
        new ListAccountAssignmentsCommand({
          InstanceArn: options.instanceArn,
          AccountId: accountId,
          PermissionSetArn: permissionSetArn,
          NextToken: token,
        }),
      );
      return { items: page.AccountAssignments ?? [], next: page.NextToken };
    }),
  );
}

export async function assignmentExists(
  options: IdentityCenterOptions,
  target: AssignmentTarget,
): Promise<boolean> {
  const all = await listAssignments(options, target.accountId, target.permissionSetArn);
  return all.some(
    (a) => a.PrincipalType === (target.principalType ?? 'USER') && a.PrincipalId === target.principalId,
  );
}

function request(options: IdentityCenterOptions, target: AssignmentTarget) {
  return {
    InstanceArn: options.instanceArn,
    PermissionSetArn: target.permissionSetArn,
    TargetType: 'AWS_ACCOUNT' as const,
    TargetId: target.accountId,
    PrincipalType: target.principalType ?? 'USER',
    PrincipalId: target.principalId,
  };
}

export async function createAssignment(
  options: IdentityCenterOptions,
  target: AssignmentTarget,
): Promise<void> {
  const what = `assigning ${target.permissionSetArn} to user ${target.principalId} in ${target.accountId}`;
  const started = await awsCall(what, () =>
    options.ssoAdmin.send(new CreateAccountAssignmentCommand(request(options, target))),
  );
  await waitForOperation(
    what,
    started.AccountAssignmentCreationStatus,
    async (requestId) =>
      (
        await options.ssoAdmin.send(
          new DescribeAccountAssignmentCreationStatusCommand({
            InstanceArn: options.instanceArn,
            AccountAssignmentCreationRequestId: requestId,
          }),
        )
      ).AccountAssignmentCreationStatus,
    options.poll,
  );
}

export async function deleteAssignment(
  options: IdentityCenterOptions,
  target: AssignmentTarget,
): Promise<void> {
  const what = `removing the assignment of ${target.permissionSetArn} to ${target.principalType ?? 'USER'} ${target.principalId} in ${target.accountId}`;
  const started = await awsCall(what, () =>
    options.ssoAdmin.send(new DeleteAccountAssignmentCommand(request(options, target))),
  );
  await waitForOperation(
    what,
    started.AccountAssignmentDeletionStatus,
    async (requestId) =>
      (
        await options.ssoAdmin.send(
          new DescribeAccountAssignmentDeletionStatusCommand({
            InstanceArn: options.instanceArn,
            AccountAssignmentDeletionRequestId: requestId,
          }),
        )
      ).AccountAssignmentDeletionStatus,
    options.poll,
  );
}
