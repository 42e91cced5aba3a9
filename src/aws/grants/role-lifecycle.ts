/**
 * A grant role's life: created with its boundary, trust and tags, then its deny statements
 * (expiry, conditions) before any allow; a failure after CreateRole removes the role again
 * before anyone is told, and a role that cannot be removed is a GrantRollbackError. Revoking
 * puts the deny-all boundary on first, then takes the role apart; extending rewrites the end.
 */
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  type IAMClient,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesForRoleCommand,
  ListRolePoliciesCommand,
  PutRolePermissionsBoundaryCommand,
  RemoveRoleFromInstanceProfileCommand,
  TagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
} from '@aws-sdk/client-iam';
import type { GrantRequest, GrantResult, ManagedRole } from '../../domain/ports.js';
import { AppError, ErrorCode, GrantRollbackError } from '../../errors.js';
import {
  conditionsPolicy,
  expiryPolicy,
  INLINE,
  MANAGED_BY,
  maxSessionDurationFor,
  renderInline,
  revokedTrustPolicy,
  ROLE_PATH,
  roleNameFor,
  TAG,
  trustPolicy,
  UnpinnablePrincipalError,
} from '../../templates/grant-policies.js';
import { renderVariables } from '../../templates/policy-variables.js';
import { allIamPages } from '../aws-clients.js';
import { awsCall, isAwsError } from '../aws-errors.js';
import { ensureBoundary } from './boundary-policies.js';
import { deliver } from './delivery.js';
import type { RoleGrantEngineOptions } from './grant-options.js';
import {
  brokerRoleArn,
  checkRequestId,
  grantTemplate,
  grantValues,
  revokedBoundaryArn,
  roleArn as grantRoleArn,
} from './grant-names.js';
import { findRole, putInline, tagValue } from './grant-role.js';

/** Grants in the bot's own account only when `aws.allowGrantsInBotAccount` says so. */
async function refuseBotAccount(options: RoleGrantEngineOptions, accountId: string): Promise<void> {
  if (options.allowGrantsInBotAccount || !options.botAccountId) return;
  if ((await options.botAccountId()) === accountId) {
    throw new AppError(
      ErrorCode.Forbidden,
      `account ${accountId} is the bot's own account; grants there are refused (aws.allowGrantsInBotAccount is off)`,
    );
  }
}

export async function createGrantRole(
  options: RoleGrantEngineOptions,
  request: GrantRequest,
): Promise<GrantResult> {
  checkRequestId(request.requestId);
  const template = grantTemplate(options, request.templateName);
  const { accountId, requestId } = request;
  // Everything that can refuse the grant does so before anything is created.
  await refuseBotAccount(options, accountId);
  let trust;
  try {
    trust = trustPolicy({
      principalArn: request.requester.principalArn,
      principalSessionName: request.requester.principalSessionName,
      brokerRoleArn: brokerRoleArn(options, accountId),
      requiresMfa: template.requiresMfa,
      sourceIps: template.conditions.sourceIps,
    });
  } catch (error) {
    if (error instanceof UnpinnablePrincipalError) throw new AppError(ErrorCode.Forbidden, error.message);
    throw error;
  }
  const iam = await options.clients.iam(accountId);
  const roleName = roleNameFor(requestId);
  const roleArn = grantRoleArn(options, accountId, requestId);
  const values = grantValues(options, request);
  const log = options.logger?.child({ requestId, accountId, template: template.name });

  const boundaryIam = await (options.boundaryClients ?? options.clients).iam(accountId);
  const boundaryArn = await ensureBoundary(options, boundaryIam, accountId, template);
  const grantSeconds = Math.max(
    1,
    Math.ceil((request.expiresAt.getTime() - request.startsAt.getTime()) / 1000),
  );
  const createRole = () =>
    iam.send(
      new CreateRoleCommand({
        RoleName: roleName,
        Path: ROLE_PATH,
        Description: `aws-access grant ${requestId}: ${template.name} for ${values.requester}`.slice(0, 1000),
        AssumeRolePolicyDocument: JSON.stringify(trust),
        PermissionsBoundary: boundaryArn,
        MaxSessionDuration: maxSessionDurationFor(grantSeconds),
        // All tags at creation: from its first moment the role says whose it is and when it ends.
        Tags: [
          { Key: TAG.requestId, Value: requestId },
          { Key: TAG.requester, Value: values.requester! },
          { Key: TAG.template, Value: template.name },
          { Key: TAG.expiresAt, Value: request.expiresAt.toISOString() },
          { Key: TAG.managedBy, Value: MANAGED_BY },
        ],
      }),
    );

  // Set when the name is taken by a role this grant must not touch: nothing to roll back then.
  let foreign = false;
  try {
    // Inside the rollback: a CreateRole whose answer was lost (the SDK's retry then meets
    // EntityAlreadyExists) leaves a role even when this step fails afterwards (chaos run, #13).
    await awsCall(`creating role ${roleName} in ${accountId}`, async () => {
      try {
        await createRole();
      } catch (error) {
        if (!isAwsError(error, 'EntityAlreadyExists')) throw error;
        // A retried grant (a crash left the role, or a CreateRole answer was lost): it must be
        // ours and this request's; it is removed and made again, so every grant starts from a
        // role with only deny statements.
        const existing = await iam.send(new GetRoleCommand({ RoleName: roleName }));
        if (existing.Role?.Path !== ROLE_PATH || tagValue(existing.Role?.Tags, TAG.requestId) !== requestId) {
          foreign = true;
          throw new AppError(ErrorCode.Conflict, `role ${roleName} exists and belongs to another request`);
        }
        await removeRole(options, iam, accountId, roleName);
        await createRole();
      }
    });

    await awsCall(`adding policies to ${roleName}`, async () => {
      // Denies first: from the moment the role can do anything, IAM ends it on time.
      await putInline(iam, roleName, INLINE.expiry, expiryPolicy(request.expiresAt));
      const conditions = conditionsPolicy(template.conditions);
      if (conditions) await putInline(iam, roleName, INLINE.conditions, conditions);
      for (const arn of template.managedPolicyArns) {
        await iam.send(
          new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: renderVariables(arn, values) }),
        );
      }
      const inline = renderInline(template, values);
      if (inline) await putInline(iam, roleName, INLINE.grant, inline);
    });
    log?.info({ roleArn }, 'grant role created');
    const delivery = await deliver(options, request, template, roleArn, roleName, values);
    return { roleArn, roleName, delivery };
  } catch (error) {
    if (foreign) throw error;
    // Nobody may read "nothing was granted" while the role is still there.
    try {
      await awsCall(`removing role ${roleName} after a failed grant`, () =>
        removeRole(options, iam, accountId, roleName),
      );
    } catch (rollbackError) {
      log?.error({ err: rollbackError }, 'a failed grant could not remove its role');
      throw new GrantRollbackError(accountId, roleName, roleArn, error, rollbackError);
    }
    log?.warn({ err: error }, 'grant failed; its role was removed');
    throw error;
  }
}

export async function revokeGrantRole(
  options: RoleGrantEngineOptions,
  accountId: string,
  requestId: string,
): Promise<{ removed: boolean }> {
  checkRequestId(requestId);
  const iam = await options.clients.iam(accountId);
  const roleName = roleNameFor(requestId);
  const role = await findRole(iam, roleName);
  if (!role) return { removed: false };
  if (role.Path !== ROLE_PATH) {
    throw new AppError(
      ErrorCode.Forbidden,
      `role ${roleName} is not under ${ROLE_PATH}; refusing to delete it`,
    );
  }
  const removed = await awsCall(`revoking role ${roleName} in ${accountId}`, () =>
    removeRole(options, iam, accountId, roleName),
  );
  options.logger?.info({ requestId, accountId, roleName }, 'grant role revoked');
  return { removed };
}

export async function removeForeignRole(
  options: RoleGrantEngineOptions,
  accountId: string,
  role: ManagedRole,
): Promise<{ removed: boolean }> {
  if (!role.path?.startsWith(ROLE_PATH)) {
    throw new AppError(
      ErrorCode.Forbidden,
      `role ${role.roleName} is not under ${ROLE_PATH}; refusing to delete it`,
    );
  }
  const iam = await options.clients.iam(accountId);
  const removed = await awsCall(`removing foreign role ${role.roleName} in ${accountId}`, () =>
    removeRole(options, iam, accountId, role.roleName),
  );
  options.logger?.warn({ accountId, roleName: role.roleName, path: role.path }, 'foreign role removed');
  return { removed };
}

/**
 * Ends a role, then deletes it. The deny-all boundary comes first: it ends every session at
 * once and is what the broker policy requires before it may rewrite the trust, take policies
 * off or delete the role. Idempotent; false when the role was already gone.
 */
async function removeRole(
  options: RoleGrantEngineOptions,
  iam: IAMClient,
  accountId: string,
  roleName: string,
): Promise<boolean> {
  const gone = (error: unknown) => {
    if (!isAwsError(error, 'NoSuchEntity')) throw error;
  };
  try {
    await iam.send(
      new PutRolePermissionsBoundaryCommand({
        RoleName: roleName,
        PermissionsBoundary: revokedBoundaryArn(options, accountId),
      }),
    );
  } catch (error) {
    gone(error);
    return false;
  }
  await iam
    .send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: roleName,
        PolicyDocument: JSON.stringify(revokedTrustPolicy()),
      }),
    )
    .catch(gone);
  const attached = await allIamPages(
    (Marker) => iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName, Marker })),
    (r) => r.AttachedPolicies,
  ).catch((e) => (gone(e), []));
  for (const p of attached) {
    await iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: p.PolicyArn })).catch(gone);
  }
  const profiles = await allIamPages(
    (Marker) => iam.send(new ListInstanceProfilesForRoleCommand({ RoleName: roleName, Marker })),
    (r) => r.InstanceProfiles,
  ).catch((e) => (gone(e), []));
  for (const p of profiles) {
    await iam
      .send(
        new RemoveRoleFromInstanceProfileCommand({
          RoleName: roleName,
          InstanceProfileName: p.InstanceProfileName,
        }),
      )
      .catch(gone);
  }
  const inline = await allIamPages(
    (Marker) => iam.send(new ListRolePoliciesCommand({ RoleName: roleName, Marker })),
    (r) => r.PolicyNames,
  ).catch((e) => (gone(e), []));
  for (const name of inline) {
    await iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: name })).catch(gone);
  }
  await iam.send(new DeleteRoleCommand({ RoleName: roleName })).catch(gone);
  return true;
}

export async function extendGrantRole(
  options: RoleGrantEngineOptions,
  accountId: string,
  requestId: string,
  expiresAt: Date,
): Promise<void> {
  checkRequestId(requestId);
  const iam = await options.clients.iam(accountId);
  const roleName = roleNameFor(requestId);
  const role = await findRole(iam, roleName);
  if (!role) throw new AppError(ErrorCode.NotFound, `no role for request ${requestId} in ${accountId}`);
  await awsCall(`extending role ${roleName}`, async () => {
    if (role.PermissionsBoundary?.PermissionsBoundaryArn === revokedBoundaryArn(options, accountId)) {
      throw new AppError(ErrorCode.Conflict, `the grant for request ${requestId} is being revoked`);
    }
    await putInline(iam, roleName, INLINE.expiry, expiryPolicy(expiresAt));
    await iam.send(
      new TagRoleCommand({
        RoleName: roleName,
        Tags: [{ Key: TAG.expiresAt, Value: expiresAt.toISOString() }],
      }),
    );
    const created = role.CreateDate?.getTime() ?? options.clock.now();
    const seconds = Math.ceil((expiresAt.getTime() - Math.min(created, options.clock.now())) / 1000);
    const wanted = maxSessionDurationFor(seconds);
    if (wanted !== role.MaxSessionDuration) {
      await iam.send(new UpdateRoleCommand({ RoleName: roleName, MaxSessionDuration: wanted }));
    }
  });
}
