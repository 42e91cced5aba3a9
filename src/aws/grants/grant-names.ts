/**
 * What a grant is called in IAM and the variables its policies are rendered with: the ARNs of
 * its role, its boundary and the removal boundary, and the template and request id it names.
 */
import type { GrantRequest } from '../../domain/ports.js';
import { AppError, ErrorCode } from '../../errors.js';
import type { BoundaryTemplate } from '../../templates/boundary-template.js';
import {
  boundaryPolicyName,
  REQUEST_ID_RE,
  requesterName,
  REVOKED_BOUNDARY_NAME,
  ROLE_PATH,
  roleNameFor,
} from '../../templates/grant-policies.js';
import type { VariableValues } from '../../templates/policy-variables.js';
import type { RoleGrantEngineOptions } from './grant-options.js';

type Names = Pick<RoleGrantEngineOptions, 'partition' | 'region' | 'brokerRoleName'>;

export function roleArn(options: Names, accountId: string, requestId: string): string {
  return `arn:${options.partition}:iam::${accountId}:role${ROLE_PATH}${roleNameFor(requestId)}`;
}

export function boundaryArn(options: Names, accountId: string, templateName: string): string {
  return `arn:${options.partition}:iam::${accountId}:policy${ROLE_PATH}${boundaryPolicyName(templateName)}`;
}

/** The StackSet's deny-all boundary: the first thing a role being removed gets. */
export function revokedBoundaryArn(options: Names, accountId: string): string {
  return `arn:${options.partition}:iam::${accountId}:policy${ROLE_PATH}${REVOKED_BOUNDARY_NAME}`;
}

export function brokerRoleArn(options: Names, accountId: string): string {
  return `arn:${options.partition}:iam::${accountId}:role/${options.brokerRoleName}`;
}

export function accountValues(options: Names, accountId: string, template: string): VariableValues {
  return {
    account_id: accountId,
    partition: options.partition,
    region: options.region,
    template,
    broker_role_name: options.brokerRoleName,
  };
}

export function grantValues(options: Names, request: GrantRequest): VariableValues {
  return {
    ...accountValues(options, request.accountId, request.templateName),
    region: request.region ?? options.region,
    requester: requesterName(request.requester),
    requester_email: request.requester.email ?? '',
    slack_user_id: request.requester.slackUserId,
    principal_arn: request.requester.principalArn,
    request_id: request.requestId,
    role_name: roleNameFor(request.requestId),
    starts_at: request.startsAt.toISOString(),
    expires_at: request.expiresAt.toISOString(),
  };
}

export function grantTemplate(
  options: Pick<RoleGrantEngineOptions, 'templates'>,
  name: string,
): BoundaryTemplate {
  const template = options.templates.template(name);
  if (!template) throw new AppError(ErrorCode.NotFound, `no template named "${name}"`);
  return template;
}

export function checkRequestId(requestId: string): void {
  if (!REQUEST_ID_RE.test(requestId)) {
    throw new AppError(
      ErrorCode.AwsFatal,
      `request id "${requestId.slice(0, 60)}" cannot name an IAM role (letters, digits and +=,.@_- only, at most 53)`,
    );
  }
}
