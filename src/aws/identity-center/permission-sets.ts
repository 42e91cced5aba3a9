/**
 * The bot's permission sets in Identity Center: found (cached ARN in Redis, else by name),
 * checked to be the bot's own (tags `managed-by` and `aws-access:template`; a set of that name
 * the bot does not own is never touched: nothing is granted), created or rewritten when the
 * content hash differs, and provisioned to a target account before anyone is assigned there.
 * Changes to one set are serialised by a Redis lock, so two grants (or a revoke adding a session
 * deny) never write the set at once.
 */
import {
  AttachCustomerManagedPolicyReferenceToPermissionSetCommand,
  AttachManagedPolicyToPermissionSetCommand,
  CreatePermissionSetCommand,
  DeleteInlinePolicyFromPermissionSetCommand,
  DescribePermissionSetCommand,
  DescribePermissionSetProvisioningStatusCommand,
  DetachCustomerManagedPolicyReferenceFromPermissionSetCommand,
  DetachManagedPolicyFromPermissionSetCommand,
  ListCustomerManagedPolicyReferencesInPermissionSetCommand,
  ListManagedPoliciesInPermissionSetCommand,
  ListPermissionSetsCommand,
  ListPermissionSetsProvisionedToAccountCommand,
  ListTagsForResourceCommand,
  ProvisionPermissionSetCommand,
  PutInlinePolicyToPermissionSetCommand,
  PutPermissionsBoundaryToPermissionSetCommand,
  TagResourceCommand,
  UpdatePermissionSetCommand,
  type ProvisionTargetType,
  type Tag,
} from '@aws-sdk/client-sso-admin';
import { AppError, ErrorCode } from '../../errors.js';
import type { BoundaryTemplate } from '../../templates/boundary-template.js';
import { allPages } from '../aws-clients.js';
import { awsCall, isAwsError } from '../aws-errors.js';
import type { IdentityCenterOptions } from './identity-center-options.js';
import { waitForOperation } from './operation-status.js';
import {
  MANAGED_BY,
  PERMISSION_SET_TAG,
  permissionSetContent,
  type PermissionSetContent,
} from './permission-set-content.js';

export interface OwnedPermissionSet {
  arn: string;
  name: string;
  templateName: string;
}

/** A permission set with the bot's name that the bot does not own: never changed, nothing granted. */
export class ForeignPermissionSetError extends AppError {
  constructor(readonly permissionSetName: string) {
    super(
      ErrorCode.Conflict,
      `permission set ${permissionSetName} exists in Identity Center but is not managed by aws-access-bot (no managed-by tag); the bot does not touch it`,
    );
  }
}

async function tagsOf(options: IdentityCenterOptions, arn: string): Promise<Map<string, string>> {
  const tags = await allPages(async (token) => {
    const page = await options.ssoAdmin.send(
      new ListTagsForResourceCommand({
        InstanceArn: options.instanceArn,
        ResourceArn: arn,
        NextToken: token,
      }),
    );
    return { items: page.Tags ?? [], next: page.NextToken };
  });
  return new Map(tags.map((t) => [t.Key ?? '', t.Value ?? '']));
}

function ownedBy(tags: Map<string, string>, templateName: string): boolean {
  return (
    tags.get(PERMISSION_SET_TAG.managedBy) === MANAGED_BY &&
    tags.get(PERMISSION_SET_TAG.template) === templateName
  );
}

async function allPermissionSetArns(options: IdentityCenterOptions): Promise<string[]> {
  return allPages(async (token) => {
    const page = await options.ssoAdmin.send(
      new ListPermissionSetsCommand({ InstanceArn: options.instanceArn, NextToken: token }),
    );
    return { items: page.PermissionSets ?? [], next: page.NextToken };
  });
}

async function describe(options: IdentityCenterOptions, arn: string) {
  try {
    const answer = await options.ssoAdmin.send(
      new DescribePermissionSetCommand({ InstanceArn: options.instanceArn, PermissionSetArn: arn }),
    );
    return answer.PermissionSet;
  } catch (error) {
    if (isAwsError(error, 'ResourceNotFoundException')) return undefined;
    throw error;
  }
}

/** The ARN of the set named `name`, from the cache or by listing the instance's sets. */
async function findByName(options: IdentityCenterOptions, templateName: string, name: string) {
  const cached = await options.holders.permissionSetArn(templateName);
  if (cached && (await describe(options, cached))?.Name === name) return cached;
  for (const arn of await allPermissionSetArns(options)) {
    if ((await describe(options, arn))?.Name === name) return arn;
  }
  return undefined;
}

/**
 * Every permission set the bot owns in the instance (managed-by and template tags): what
 * reconcile looks at. Sets named `aws-access-…` without the tags are left alone.
 */
export async function ownedPermissionSets(options: IdentityCenterOptions): Promise<OwnedPermissionSet[]> {
  return awsCall('listing the Identity Center permission sets', async () => {
    const owned: OwnedPermissionSet[] = [];
    for (const arn of await allPermissionSetArns(options)) {
      const set = await describe(options, arn);
      if (!set?.Name?.startsWith('aws-access-')) continue;
      const tags = await tagsOf(options, arn);
      const templateName = tags.get(PERMISSION_SET_TAG.template);
      if (templateName && ownedBy(tags, templateName)) owned.push({ arn, name: set.Name, templateName });
    }
    return owned;
  });
}

/**
 * Makes the template's permission set hold `content`: creates it, or rewrites it when its hash
 * tag differs, and provisions a changed set to the accounts it is already provisioned to.
 * Returns the ARN. Call under the set's lock.
 */
async function writePermissionSet(
  options: IdentityCenterOptions,
  template: BoundaryTemplate,
  content: PermissionSetContent,
): Promise<{ arn: string; changed: boolean }> {
  const { ssoAdmin, instanceArn } = options;
  const tags: Tag[] = [
    { Key: PERMISSION_SET_TAG.managedBy, Value: MANAGED_BY },
    { Key: PERMISSION_SET_TAG.template, Value: template.name },
    { Key: PERMISSION_SET_TAG.contentHash, Value: content.hash },
  ];
  let arn = await findByName(options, template.name, content.name);
  let created = false;
  if (arn) {
    const current = await tagsOf(options, arn);
    if (!ownedBy(current, template.name)) throw new ForeignPermissionSetError(content.name);
    if (current.get(PERMISSION_SET_TAG.contentHash) === content.hash) {
      await options.holders.rememberPermissionSet(template.name, arn);
      return { arn, changed: false };
    }
    await ssoAdmin.send(
      new UpdatePermissionSetCommand({
        InstanceArn: instanceArn,
        PermissionSetArn: arn,
        Description: content.description,
        SessionDuration: content.sessionDuration,
      }),
    );
  } else {
    const answer = await ssoAdmin.send(
      new CreatePermissionSetCommand({
        InstanceArn: instanceArn,
        Name: content.name,
        Description: content.description,
        SessionDuration: content.sessionDuration,
        // Without the hash first: a crash before the content is written leaves a set the next
        // grant rewrites.
        Tags: tags.slice(0, 2),
      }),
    );
    arn = answer.PermissionSet?.PermissionSetArn;
    if (!arn)
      throw new AppError(ErrorCode.AwsFatal, `creating permission set ${content.name}: no ARN returned`);
    created = true;
  }
  await options.holders.rememberPermissionSet(template.name, arn);
  const target = { InstanceArn: instanceArn, PermissionSetArn: arn };

  if (content.inlinePolicy) {
    await ssoAdmin.send(
      new PutInlinePolicyToPermissionSetCommand({
        ...target,
        InlinePolicy: JSON.stringify(content.inlinePolicy),
      }),
    );
  } else if (!created) {
    await ssoAdmin.send(new DeleteInlinePolicyFromPermissionSetCommand(target)).catch((error: unknown) => {
      if (!isAwsError(error, 'ResourceNotFoundException')) throw error;
    });
  }

  const attached = await allPages(async (token) => {
    const page = await ssoAdmin.send(
      new ListManagedPoliciesInPermissionSetCommand({ ...target, NextToken: token }),
    );
    return { items: (page.AttachedManagedPolicies ?? []).map((p) => p.Arn ?? ''), next: page.NextToken };
  });
  for (const policyArn of attached.filter((a) => !content.awsManagedPolicyArns.includes(a))) {
    await ssoAdmin.send(
      new DetachManagedPolicyFromPermissionSetCommand({ ...target, ManagedPolicyArn: policyArn }),
    );
  }
  for (const policyArn of content.awsManagedPolicyArns.filter((a) => !attached.includes(a))) {
    await ssoAdmin.send(
      new AttachManagedPolicyToPermissionSetCommand({ ...target, ManagedPolicyArn: policyArn }),
    );
  }

  const key = (p: { Name?: string; Path?: string }) => `${p.Path ?? '/'}${p.Name ?? ''}`;
  const references = await allPages(async (token) => {
    const page = await ssoAdmin.send(
      new ListCustomerManagedPolicyReferencesInPermissionSetCommand({ ...target, NextToken: token }),
    );
    return { items: page.CustomerManagedPolicyReferences ?? [], next: page.NextToken };
  });
  const wanted = new Set(content.customerManagedPolicies.map(key));
  const present = new Set(references.map(key));
  for (const ref of references.filter((r) => !wanted.has(key(r)))) {
    await ssoAdmin.send(
      new DetachCustomerManagedPolicyReferenceFromPermissionSetCommand({
        ...target,
        CustomerManagedPolicyReference: { Name: ref.Name, Path: ref.Path },
      }),
    );
  }
  for (const ref of content.customerManagedPolicies.filter((r) => !present.has(key(r)))) {
    await ssoAdmin.send(
      new AttachCustomerManagedPolicyReferenceToPermissionSetCommand({
        ...target,
        CustomerManagedPolicyReference: ref,
      }),
    );
  }

  await ssoAdmin.send(
    new PutPermissionsBoundaryToPermissionSetCommand({
      ...target,
      PermissionsBoundary: { CustomerManagedPolicyReference: content.boundary },
    }),
  );
  // The hash last: only a fully written set claims to hold the content.
  await ssoAdmin.send(new TagResourceCommand({ InstanceArn: instanceArn, ResourceArn: arn, Tags: tags }));
  options.logger?.info(
    { template: template.name, permissionSet: content.name, hash: content.hash },
    'permission set written',
  );
  if (!created) await provision(options, arn, 'ALL_PROVISIONED_ACCOUNTS');
  return { arn, changed: true };
}

/** ProvisionPermissionSet and wait until Identity Center has pushed the set to the account(s). */
export async function provision(
  options: IdentityCenterOptions,
  arn: string,
  targetType: ProvisionTargetType,
  accountId?: string,
): Promise<void> {
  const what = `provisioning permission set ${arn} to ${accountId ?? 'its accounts'}`;
  const started = await awsCall(what, () =>
    options.ssoAdmin.send(
      new ProvisionPermissionSetCommand({
        InstanceArn: options.instanceArn,
        PermissionSetArn: arn,
        TargetType: targetType,
        ...(accountId ? { TargetId: accountId } : {}),
      }),
    ),
  );
  await waitForOperation(
    what,
    started.PermissionSetProvisioningStatus,
    async (requestId) =>
      (
        await options.ssoAdmin.send(
          new DescribePermissionSetProvisioningStatusCommand({
            InstanceArn: options.instanceArn,
            ProvisionPermissionSetRequestId: requestId,
          }),
        )
      ).PermissionSetProvisioningStatus,
    options.poll,
  );
}

async function provisionedTo(
  options: IdentityCenterOptions,
  arn: string,
  accountId: string,
): Promise<boolean> {
  const sets = await allPages(async (token) => {
    const page = await options.ssoAdmin.send(
      new ListPermissionSetsProvisionedToAccountCommand({
        InstanceArn: options.instanceArn,
        AccountId: accountId,
        ProvisioningStatus: 'LATEST_PERMISSION_SET_PROVISIONED',
        NextToken: token,
      }),
    );
    return { items: page.PermissionSets ?? [], next: page.NextToken };
  });
  return sets.includes(arn);
}

/** The lock name of a template's permission set. */
export function permissionSetLock(templateName: string): string {
  return `permission-set:${templateName}`;
}

/**
 * The template's permission set, current (content and session denies) and provisioned to
 * `accountId` with its boundary in place there. Returns its ARN and name.
 */
export async function ensurePermissionSet(
  options: IdentityCenterOptions,
  template: BoundaryTemplate,
  accountId: string,
): Promise<{ arn: string; name: string }> {
  if (options.ensureBoundary) await options.ensureBoundary(accountId, template);
  return options.holders.withLock(permissionSetLock(template.name), async () => {
    const cached = await options.holders.permissionSetArn(template.name);
    const denies = cached ? await options.holders.sessionDenies(cached, options.clock.now()) : [];
    const content = permissionSetContent(template, denies, options);
    const { arn } = await awsCall(`writing permission set ${content.name}`, () =>
      writePermissionSet(options, template, content),
    );
    const current = await awsCall(`checking where ${content.name} is provisioned`, () =>
      provisionedTo(options, arn, accountId),
    );
    // A changed set was pushed to its accounts already (writePermissionSet); a new account gets it here.
    if (!current) await provision(options, arn, 'AWS_ACCOUNT', accountId);
    return { arn, name: content.name };
  });
}

/**
 * Rewrites the template's set after its session denies changed (a revoke added one, or one
 * expired) and provisions it to every account it is in, so the deny takes effect there.
 */
export async function refreshSessionDenies(
  options: IdentityCenterOptions,
  template: BoundaryTemplate,
): Promise<void> {
  await options.holders.withLock(permissionSetLock(template.name), async () => {
    const cached = await options.holders.permissionSetArn(template.name);
    if (!cached) return;
    const denies = await options.holders.sessionDenies(cached, options.clock.now());
    const content = permissionSetContent(template, denies, options);
    await awsCall(`writing permission set ${content.name}`, () =>
      writePermissionSet(options, template, content),
    );
  });
}
