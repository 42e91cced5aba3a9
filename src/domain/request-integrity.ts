/**
 * What the bot signs about a request (RecordSigner, key outside Redis): the fields fixed when it
 * was made, and each approval it counted. Provisioning checks both before anything is granted.
 */
import type { AccessRequest } from './access-request.js';

/** The fields set once at creation, in a fixed order. */
export function requestContent(request: AccessRequest): string {
  return JSON.stringify([
    'request/v1',
    request.id,
    request.requesterId,
    request.requesterEmail ?? '',
    request.principalArn,
    request.principalSessionName ?? '',
    request.accountId,
    request.templateName,
    request.durationSeconds,
    request.ruleName,
    request.breakGlass,
    request.createdAt,
    // A group member's strictest-rule approval count is part of what was asked; single requests
    // keep their v1 content (records signed before groups existed still verify).
    ...(request.groupId ? [request.groupId, request.approvalsRequired] : []),
  ]);
}

export function approvalContent(requestId: string, approverId: string): string {
  return JSON.stringify(['approval/v1', requestId, approverId]);
}
