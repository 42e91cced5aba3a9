/**
 * A template's boundary as the policy `/aws-access/boundary-<T>` in one account: rendered for
 * the account, hashed for its description, and written (new version only when it changed) by
 * boundary-writer.ts in the boundary writer's session.
 */
import { createHash } from 'node:crypto';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { BoundaryTemplate } from '../../templates/boundary-template.js';
import {
  boundaryPolicyName,
  MANAGED_BY,
  renderBoundary,
  ROLE_PATH,
  TAG,
} from '../../templates/grant-policies.js';
import { awsCall } from '../aws-errors.js';
import { canonicalJson, writeBoundaryPolicy } from './boundary-writer.js';
import type { RoleGrantEngineOptions } from './grant-options.js';
import { accountValues, boundaryArn } from './grant-names.js';

/**
 * Ensures `/aws-access/boundary-<T>` holds the template's boundary as rendered for the
 * account, through `iam` (the boundary writer's session; see boundary-writer.ts).
 */
export async function ensureBoundary(
  options: RoleGrantEngineOptions,
  iam: IAMClient,
  accountId: string,
  template: BoundaryTemplate,
): Promise<string> {
  const arn = boundaryArn(options, accountId, template.name);
  const document = renderBoundary(template, accountValues(options, accountId, template.name));
  const hash = createHash('sha256').update(canonicalJson(document)).digest('hex').slice(0, 16);
  const changed = await awsCall(
    `updating boundary ${boundaryPolicyName(template.name)} in ${accountId}`,
    () =>
      writeBoundaryPolicy(iam, {
        arn,
        name: boundaryPolicyName(template.name),
        path: ROLE_PATH,
        document,
        description: `aws-access boundary for template ${template.name} (sha256 ${hash})`,
        tags: [
          { Key: TAG.managedBy, Value: MANAGED_BY },
          { Key: TAG.template, Value: template.name },
        ],
      }),
  );
  if (changed) {
    options.logger?.info({ accountId, template: template.name, hash }, 'boundary policy written');
  }
  return arn;
}
