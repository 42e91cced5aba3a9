/**
 * The grant engine: one IAM role per approved request, scoped by the template's boundary and
 * ended by IAM itself at the grant's end (see docs/aws-grants.md and DESIGN "How access is
 * granted"). The role is created with its boundary, trust and tags, then gets its deny
 * statements (expiry, conditions) before any allow; a failure after CreateRole removes the role
 * again before anyone is told, and a role that cannot be removed is a GrantRollbackError.
 */
import { createHash } from 'node:crypto';
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
  ListRolesCommand,
  ListRoleTagsCommand,
  PutRolePermissionsBoundaryCommand,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  type Role,
  TagRoleCommand,
  type Tag,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, type Credentials } from '@aws-sdk/client-sts';
import type {
  Clock,
  Delivery,
  GrantEngine,
  GrantRequest,
  GrantResult,
  ManagedRole,
  ReconcileReport,
  Requester,
} from '../domain/ports.js';
import { AppError, ErrorCode, GrantRollbackError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { BoundaryTemplate } from '../templates/boundary-template.js';
import {
  boundaryPolicyName,
  conditionsPolicy,
  expiryPolicy,
  INLINE,
  MANAGED_BY,
  maxSessionDurationFor,
  renderBoundary,
  renderInline,
  REQUEST_ID_RE,
  requestIdOfRole,
  requesterName,
  REVOKED_BOUNDARY_NAME,
  revokedTrustPolicy,
  ROLE_PATH,
  roleNameFor,
  sessionPolicy,
  TAG,
  trustPolicy,
  UnpinnablePrincipalError,
} from '../templates/grant-policies.js';
import { renderVariables, type VariableValues } from '../templates/policy-variables.js';
import type { AccountClients } from './account-clients.js';
import { allPages } from './aws-clients.js';
import { isAwsError, toAwsError } from './aws-errors.js';
import { canonicalJson, writeBoundaryPolicy } from './boundary-writer.js';
import { consoleSignInUrl } from './federation-sign-in.js';

export { canonicalJson } from './boundary-writer.js';

/** Roles whose tags reconcile reads at once: faster than one by one, gentle on IAM throttling. */
const RECONCILE_TAG_CONCURRENCY = 8;
/** STS caps role-chained sessions at one hour; the broker session is a chain link. */
const MAX_CHAINED_SESSION_SECONDS = 3600;
const MIN_SESSION_SECONDS = 900;

export interface RoleGrantEngineOptions {
  /** Broker sessions: grant roles are created, changed and removed in these. */
  clients: AccountClients;
  /**
   * Boundary-writer sessions (`aws.boundaryWriterRoleName`): the only ones that write
   * `/aws-access/boundary-*`. Default: `clients` (tests, a single-role setup).
   */
  boundaryClients?: AccountClients;
  /** The account of the bot's own credentials; grants there are refused unless allowed. */
  botAccountId?: () => Promise<string>;
  allowGrantsInBotAccount?: boolean;
  templates: { template(name: string): BoundaryTemplate | undefined };
  partition: string;
  region: string;
  brokerRoleName: string;
  delivery: 'assume' | 'credentials';
  federationEndpoint: string;
  consoleUrl: string;
  clock: Clock;
  logger?: Logger;
  /** How long to wait for IAM to make a new role assumable (default 60 s). */
  assumableTimeoutMs?: number;
  /** Injectable so tests do not really wait. */
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function tagValue(tags: Tag[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}

export class RoleGrantEngine implements GrantEngine {
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: RoleGrantEngineOptions) {
    this.sleep = options.sleep ?? defaultSleep;
  }

  roleArn(accountId: string, requestId: string): string {
    return `arn:${this.options.partition}:iam::${accountId}:role${ROLE_PATH}${roleNameFor(requestId)}`;
  }

  boundaryArn(accountId: string, templateName: string): string {
    return `arn:${this.options.partition}:iam::${accountId}:policy${ROLE_PATH}${boundaryPolicyName(templateName)}`;
  }

  /** The StackSet's deny-all boundary: the first thing a role being removed gets. */
  revokedBoundaryArn(accountId: string): string {
    return `arn:${this.options.partition}:iam::${accountId}:policy${ROLE_PATH}${REVOKED_BOUNDARY_NAME}`;
  }

  private brokerRoleArn(accountId: string): string {
    return `arn:${this.options.partition}:iam::${accountId}:role/${this.options.brokerRoleName}`;
  }

  private accountValues(accountId: string, template: string): VariableValues {
    return {
      account_id: accountId,
      partition: this.options.partition,
      region: this.options.region,
      template,
      broker_role_name: this.options.brokerRoleName,
    };
  }

  private grantValues(request: GrantRequest): VariableValues {
    return {
      ...this.accountValues(request.accountId, request.templateName),
      region: request.region ?? this.options.region,
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

  private template(name: string): BoundaryTemplate {
    const template = this.options.templates.template(name);
    if (!template) throw new AppError(ErrorCode.NotFound, `no template named "${name}"`);
    return template;
  }

  private checkRequestId(requestId: string): void {
    if (!REQUEST_ID_RE.test(requestId)) {
      throw new AppError(
        ErrorCode.AwsFatal,
        `request id "${requestId.slice(0, 60)}" cannot name an IAM role (letters, digits and +=,.@_- only, at most 53)`,
      );
    }
  }

  /** Grants in the bot's own account only when `aws.allowGrantsInBotAccount` says so. */
  private async refuseBotAccount(accountId: string): Promise<void> {
    if (this.options.allowGrantsInBotAccount || !this.options.botAccountId) return;
    if ((await this.options.botAccountId()) === accountId) {
      throw new AppError(
        ErrorCode.Forbidden,
        `account ${accountId} is the bot's own account; grants there are refused (aws.allowGrantsInBotAccount is off)`,
      );
    }
  }

  async grant(request: GrantRequest): Promise<GrantResult> {
    this.checkRequestId(request.requestId);
    const template = this.template(request.templateName);
    const { accountId, requestId } = request;
    // Everything that can refuse the grant does so before anything is created.
    await this.refuseBotAccount(accountId);
    let trust;
    try {
      trust = trustPolicy({
        principalArn: request.requester.principalArn,
        principalSessionName: request.requester.principalSessionName,
        brokerRoleArn: this.brokerRoleArn(accountId),
        requiresMfa: template.requiresMfa,
        sourceIps: template.conditions.sourceIps,
      });
    } catch (error) {
      if (error instanceof UnpinnablePrincipalError) throw new AppError(ErrorCode.Forbidden, error.message);
      throw error;
    }
    const iam = await this.options.clients.iam(accountId);
    const roleName = roleNameFor(requestId);
    const roleArn = this.roleArn(accountId, requestId);
    const values = this.grantValues(request);
    const log = this.options.logger?.child({ requestId, accountId, template: template.name });

    const boundaryIam = await (this.options.boundaryClients ?? this.options.clients).iam(accountId);
    const boundaryArn = await this.ensureBoundary(boundaryIam, accountId, template);
    const grantSeconds = Math.max(
      1,
      Math.ceil((request.expiresAt.getTime() - request.startsAt.getTime()) / 1000),
    );
    const createRole = () =>
      iam.send(
        new CreateRoleCommand({
          RoleName: roleName,
          Path: ROLE_PATH,
          Description: `aws-access grant ${requestId}: ${template.name} for ${values.requester}`.slice(
            0,
            1000,
          ),
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

    await this.call(`creating role ${roleName} in ${accountId}`, async () => {
      try {
        await createRole();
      } catch (error) {
        if (!isAwsError(error, 'EntityAlreadyExists')) throw error;
        // A retried grant (a crash left the role): it must be ours and this request's; it is
        // removed and made again, so every grant starts from a role with only deny statements.
        const existing = await iam.send(new GetRoleCommand({ RoleName: roleName }));
        if (existing.Role?.Path !== ROLE_PATH || tagValue(existing.Role?.Tags, TAG.requestId) !== requestId) {
          throw new AppError(ErrorCode.Conflict, `role ${roleName} exists and belongs to another request`);
        }
        await this.removeRole(iam, accountId, roleName);
        await createRole();
      }
    });

    try {
      await this.call(`adding policies to ${roleName}`, async () => {
        // Denies first: from the moment the role can do anything, IAM ends it on time.
        await this.putInline(iam, roleName, INLINE.expiry, expiryPolicy(request.expiresAt));
        const conditions = conditionsPolicy(template.conditions);
        if (conditions) await this.putInline(iam, roleName, INLINE.conditions, conditions);
        for (const arn of template.managedPolicyArns) {
          await iam.send(
            new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: renderVariables(arn, values) }),
          );
        }
        const inline = renderInline(template, values);
        if (inline) await this.putInline(iam, roleName, INLINE.grant, inline);
      });
      log?.info({ roleArn }, 'grant role created');
      const delivery = await this.deliver(request, template, roleArn, roleName, values);
      return { roleArn, roleName, delivery };
    } catch (error) {
      // Nobody may read "nothing was granted" while the role is still there.
      try {
        await this.call(`removing role ${roleName} after a failed grant`, () =>
          this.removeRole(iam, accountId, roleName),
        );
      } catch (rollbackError) {
        log?.error({ err: rollbackError }, 'a failed grant could not remove its role');
        throw new GrantRollbackError(accountId, roleName, roleArn, error, rollbackError);
      }
      log?.warn({ err: error }, 'grant failed; its role was removed');
      throw error;
    }
  }

  private async deliver(
    request: GrantRequest,
    template: BoundaryTemplate,
    roleArn: string,
    roleName: string,
    values: VariableValues,
  ): Promise<Delivery> {
    const { accountId } = request;
    const sts = await this.options.clients.sts(accountId);
    if (this.options.delivery === 'credentials') {
      const credentials = await this.waitUntilAssumable(roleArn, () =>
        this.mintSession(
          sts,
          roleArn,
          template,
          request.requester,
          request.requestId,
          request.expiresAt,
          values,
        ),
      );
      return this.credentialsDelivery(
        accountId,
        roleArn,
        roleName,
        request.expiresAt,
        credentials,
        values.region!,
      );
    }
    await this.waitUntilAssumable(roleArn, async () => {
      await sts.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: 'aws-access-check',
          DurationSeconds: MIN_SESSION_SECONDS,
        }),
      );
    });
    return this.assumeDelivery(
      accountId,
      roleArn,
      roleName,
      request.expiresAt,
      request.requester,
      template,
      values.region!,
    );
  }

  async revoke(accountId: string, requestId: string): Promise<{ removed: boolean }> {
    this.checkRequestId(requestId);
    const iam = await this.options.clients.iam(accountId);
    const roleName = roleNameFor(requestId);
    const role = await this.findRole(iam, roleName);
    if (!role) return { removed: false };
    if (role.Path !== ROLE_PATH) {
      throw new AppError(
        ErrorCode.Forbidden,
        `role ${roleName} is not under ${ROLE_PATH}; refusing to delete it`,
      );
    }
    const removed = await this.call(`revoking role ${roleName} in ${accountId}`, () =>
      this.removeRole(iam, accountId, roleName),
    );
    this.options.logger?.info({ requestId, accountId, roleName }, 'grant role revoked');
    return { removed };
  }

  async removeForeignRole(accountId: string, role: ManagedRole): Promise<{ removed: boolean }> {
    if (!role.path?.startsWith(ROLE_PATH)) {
      throw new AppError(
        ErrorCode.Forbidden,
        `role ${role.roleName} is not under ${ROLE_PATH}; refusing to delete it`,
      );
    }
    const iam = await this.options.clients.iam(accountId);
    const removed = await this.call(`removing foreign role ${role.roleName} in ${accountId}`, () =>
      this.removeRole(iam, accountId, role.roleName),
    );
    this.options.logger?.warn(
      { accountId, roleName: role.roleName, path: role.path },
      'foreign role removed',
    );
    return { removed };
  }

  /**
   * Ends a role, then deletes it. The deny-all boundary comes first: it ends every session at
   * once and is what the broker policy requires before it may rewrite the trust, take policies
   * off or delete the role. Idempotent; false when the role was already gone.
   */
  private async removeRole(iam: IAMClient, accountId: string, roleName: string): Promise<boolean> {
    const gone = (error: unknown) => {
      if (!isAwsError(error, 'NoSuchEntity')) throw error;
    };
    try {
      await iam.send(
        new PutRolePermissionsBoundaryCommand({
          RoleName: roleName,
          PermissionsBoundary: this.revokedBoundaryArn(accountId),
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
    const attached = await allPages(async (Marker) => {
      const r = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName, Marker }));
      return { items: r.AttachedPolicies ?? [], next: r.IsTruncated ? r.Marker : undefined };
    }).catch((e) => (gone(e), []));
    for (const p of attached) {
      await iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: p.PolicyArn })).catch(gone);
    }
    const profiles = await allPages(async (Marker) => {
      const r = await iam.send(new ListInstanceProfilesForRoleCommand({ RoleName: roleName, Marker }));
      return { items: r.InstanceProfiles ?? [], next: r.IsTruncated ? r.Marker : undefined };
    }).catch((e) => (gone(e), []));
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
    const inline = await allPages(async (Marker) => {
      const r = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName, Marker }));
      return { items: r.PolicyNames ?? [], next: r.IsTruncated ? r.Marker : undefined };
    }).catch((e) => (gone(e), []));
    for (const name of inline) {
      await iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: name })).catch(gone);
    }
    await iam.send(new DeleteRoleCommand({ RoleName: roleName })).catch(gone);
    return true;
  }

  async extend(accountId: string, requestId: string, expiresAt: Date): Promise<void> {
    this.checkRequestId(requestId);
    const iam = await this.options.clients.iam(accountId);
    const roleName = roleNameFor(requestId);
    const role = await this.findRole(iam, roleName);
    if (!role) throw new AppError(ErrorCode.NotFound, `no role for request ${requestId} in ${accountId}`);
    await this.call(`extending role ${roleName}`, async () => {
      if (role.PermissionsBoundary?.PermissionsBoundaryArn === this.revokedBoundaryArn(accountId)) {
        throw new AppError(ErrorCode.Conflict, `the grant for request ${requestId} is being revoked`);
      }
      await this.putInline(iam, roleName, INLINE.expiry, expiryPolicy(expiresAt));
      await iam.send(
        new TagRoleCommand({
          RoleName: roleName,
          Tags: [{ Key: TAG.expiresAt, Value: expiresAt.toISOString() }],
        }),
      );
      const created = role.CreateDate?.getTime() ?? this.options.clock.now();
      const seconds = Math.ceil((expiresAt.getTime() - Math.min(created, this.options.clock.now())) / 1000);
      const wanted = maxSessionDurationFor(seconds);
      if (wanted !== role.MaxSessionDuration) {
        await iam.send(new UpdateRoleCommand({ RoleName: roleName, MaxSessionDuration: wanted }));
      }
    });
  }

  async refreshDelivery(accountId: string, requestId: string, requester: Requester): Promise<Delivery> {
    this.checkRequestId(requestId);
    const iam = await this.options.clients.iam(accountId);
    const roleName = roleNameFor(requestId);
    const role = await this.findRole(iam, roleName);
    if (!role) throw new AppError(ErrorCode.NotFound, `no role for request ${requestId} in ${accountId}`);
    const expiresAt = new Date(tagValue(role.Tags, TAG.expiresAt) ?? 0);
    if (!(expiresAt.getTime() > this.options.clock.now())) {
      throw new AppError(ErrorCode.Conflict, `the grant for request ${requestId} has ended`);
    }
    const template = this.template(tagValue(role.Tags, TAG.template) ?? '');
    const roleArn = role.Arn ?? this.roleArn(accountId, requestId);
    const values = this.grantValues({
      requestId,
      accountId,
      templateName: template.name,
      requester,
      startsAt: role.CreateDate ?? new Date(this.options.clock.now()),
      expiresAt,
    });
    if (this.options.delivery === 'assume') {
      return this.assumeDelivery(
        accountId,
        roleArn,
        roleName,
        expiresAt,
        requester,
        template,
        values.region!,
      );
    }
    const sts = await this.options.clients.sts(accountId);
    const credentials = await this.mintSession(
      sts,
      roleArn,
      template,
      requester,
      requestId,
      expiresAt,
      values,
    );
    return this.credentialsDelivery(accountId, roleArn, roleName, expiresAt, credentials, values.region!);
  }

  async reconcile(accountId: string, activeGrants: ReadonlyMap<string, Date>): Promise<ReconcileReport> {
    const iam = await this.options.clients.iam(accountId);
    const now = this.options.clock.now();
    const roles = await this.call(`listing ${ROLE_PATH} roles in ${accountId}`, () =>
      allPages(async (Marker) => {
        const r = await iam.send(new ListRolesCommand({ PathPrefix: ROLE_PATH, Marker }));
        return { items: r.Roles ?? [], next: r.IsTruncated ? r.Marker : undefined };
      }),
    );
    const report: ReconcileReport = {
      orphaned: [],
      overdue: [],
      missing: [],
      foreign: [],
      tagMismatches: [],
    };
    const seen = new Set<string>();
    // ListRoles PathPrefix=/aws-access/ also returns sub-paths (/aws-access/x/hidden/). The bot
    // only ever makes `aws-access-<id>` at exactly /aws-access/; anything else there is foreign.
    const candidates: Role[] = [];
    for (const role of roles) {
      if (!role.RoleName || !role.Path?.startsWith(ROLE_PATH)) continue;
      const requestId = requestIdOfRole(role.RoleName);
      if (role.Path === ROLE_PATH && requestId) candidates.push(role);
      else report.foreign!.push({ accountId, roleName: role.RoleName, path: role.Path });
    }
    // ListRoles does not return tags on AWS; ask for them a few roles at a time.
    const tagged: Array<{ roleName: string; tags: Tag[] | undefined }> = [];
    for (let i = 0; i < candidates.length; i += RECONCILE_TAG_CONCURRENCY) {
      const batch = candidates.slice(i, i + RECONCILE_TAG_CONCURRENCY);
      tagged.push(
        ...(await Promise.all(
          batch.map(async (role) => ({
            roleName: role.RoleName!,
            tags: await this.call(`reading tags of ${role.RoleName}`, async () =>
              allPages(async (Marker) => {
                const r = await iam.send(new ListRoleTagsCommand({ RoleName: role.RoleName, Marker }));
                return { items: r.Tags ?? [], next: r.IsTruncated ? r.Marker : undefined };
              }).catch((e) => {
                if (isAwsError(e, 'NoSuchEntity')) return undefined;
                throw e;
              }),
            ),
          })),
        )),
      );
    }
    for (const { roleName, tags } of tagged) {
      if (!tags) continue;
      // The name is the request id: tags can be rewritten by anyone with iam:TagRole.
      const requestId = requestIdOfRole(roleName)!;
      const tagRequestId = tagValue(tags, TAG.requestId);
      const expiresTag = tagValue(tags, TAG.expiresAt);
      const expiresAt = expiresTag ? new Date(expiresTag) : undefined;
      const managed: ManagedRole = {
        accountId,
        roleName,
        requestId,
        expiresAt,
        ...(tagRequestId !== requestId ? { mismatchedTagRequestId: tagRequestId ?? '' } : {}),
      };
      if (managed.mismatchedTagRequestId !== undefined) report.tagMismatches!.push(managed);
      seen.add(requestId);
      const active = activeGrants.get(requestId);
      if (!active) report.orphaned.push(managed);
      else if (
        (expiresAt && !Number.isNaN(expiresAt.getTime()) && expiresAt.getTime() <= now) ||
        active.getTime() <= now
      ) {
        report.overdue.push(managed);
      }
    }
    for (const requestId of activeGrants.keys()) if (!seen.has(requestId)) report.missing.push(requestId);
    return report;
  }

  /**
   * Ensures `/aws-access/boundary-<T>` holds the template's boundary as rendered for the
   * account, through `iam` (the boundary writer's session; see boundary-writer.ts).
   */
  async ensureBoundary(iam: IAMClient, accountId: string, template: BoundaryTemplate): Promise<string> {
    const arn = this.boundaryArn(accountId, template.name);
    const document = renderBoundary(template, this.accountValues(accountId, template.name));
    const hash = createHash('sha256').update(canonicalJson(document)).digest('hex').slice(0, 16);
    const changed = await this.call(
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
      this.options.logger?.info({ accountId, template: template.name, hash }, 'boundary policy written');
    }
    return arn;
  }

  private async findRole(iam: IAMClient, roleName: string): Promise<Role | undefined> {
    try {
      return (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role;
    } catch (error) {
      if (isAwsError(error, 'NoSuchEntity')) return undefined;
      throw toAwsError(error, `reading role ${roleName}`);
    }
  }

  private putInline(iam: IAMClient, roleName: string, name: string, policy: unknown) {
    return iam.send(
      new PutRolePolicyCommand({
        RoleName: roleName,
        PolicyName: name,
        PolicyDocument: JSON.stringify(policy),
      }),
    );
  }

  private async call<T>(doing: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw toAwsError(error, doing);
    }
  }

  /**
   * IAM is eventually consistent: a new role or trust may not be assumable for some seconds.
   * Retries AccessDenied and NoSuchEntity with jittered backoff until the timeout.
   */
  private async waitUntilAssumable<T>(roleArn: string, attempt: () => Promise<T>): Promise<T> {
    const timeout = this.options.assumableTimeoutMs ?? 60_000;
    let waited = 0;
    let delay = 500;
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        const pending = isAwsError(error, 'AccessDenied', 'AccessDeniedException', 'NoSuchEntity');
        if (!pending || waited >= timeout) {
          throw toAwsError(
            error,
            `assuming ${roleArn}${pending ? ` (still not assumable after ${Math.round(waited / 1000)} s)` : ''}`,
          );
        }
        const pause = Math.min(delay * (0.5 + Math.random()), timeout - waited);
        await this.sleep(pause);
        waited += pause;
        delay = Math.min(delay * 2, 8000);
      }
    }
  }

  private async mintSession(
    sts: Awaited<ReturnType<AccountClients['sts']>>,
    roleArn: string,
    template: BoundaryTemplate,
    requester: Requester,
    requestId: string,
    expiresAt: Date,
    values: VariableValues,
  ): Promise<Credentials> {
    const name = requesterName(requester);
    const remaining = Math.floor((expiresAt.getTime() - this.options.clock.now()) / 1000);
    const result = await sts.send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: name,
        SourceIdentity: name,
        DurationSeconds: Math.max(MIN_SESSION_SECONDS, Math.min(MAX_CHAINED_SESSION_SECONDS, remaining)),
        Policy: JSON.stringify(sessionPolicy(template, values, expiresAt)),
        Tags: [
          { Key: TAG.requestId, Value: requestId },
          { Key: TAG.requester, Value: name },
          { Key: TAG.template, Value: template.name },
        ],
      }),
    );
    if (!result.Credentials?.AccessKeyId)
      throw new AppError(ErrorCode.AwsFatal, `STS returned no credentials for ${roleArn}`);
    return result.Credentials;
  }

  private assumeDelivery(
    accountId: string,
    roleArn: string,
    roleName: string,
    expiresAt: Date,
    requester: Requester,
    template: BoundaryTemplate,
    region: string,
  ): Delivery {
    const signIn = new URL(this.options.federationEndpoint).origin;
    const switchRole = new URL('/switchrole', signIn);
    // A role with a path is named path/name in the console's switch-role form.
    switchRole.searchParams.set('roleName', `${ROLE_PATH.slice(1)}${roleName}`);
    switchRole.searchParams.set('account', accountId);
    switchRole.searchParams.set('displayName', `${template.name}@${accountId}`.slice(0, 64));
    const remaining = Math.floor((expiresAt.getTime() - this.options.clock.now()) / 1000);
    const duration = Math.max(MIN_SESSION_SECONDS, Math.min(maxSessionDurationFor(remaining), remaining));
    const lines = [
      `[profile aws-access-${accountId}-${template.name}]`,
      `role_arn = ${roleArn}`,
      'source_profile = default',
      `role_session_name = ${requesterName(requester)}`,
      `duration_seconds = ${duration}`,
      `region = ${region}`,
    ];
    const user = /^arn:([^:]+):iam::(\d{12}):user\/(?:.*\/)?([^/]+)$/.exec(requester.principalArn);
    if (template.requiresMfa) {
      lines.push(
        user
          ? `mfa_serial = arn:${user[1]}:iam::${user[2]}:mfa/${user[3]}`
          : '# mfa_serial = <your MFA device ARN> (this role requires MFA)',
      );
    }
    return {
      mode: 'assume',
      accountId,
      roleArn,
      roleName,
      expiresAt,
      switchRoleUrl: switchRole.toString(),
      cliProfile: lines.join('\n'),
    };
  }

  private async credentialsDelivery(
    accountId: string,
    roleArn: string,
    roleName: string,
    expiresAt: Date,
    credentials: Credentials,
    region: string,
  ): Promise<Delivery> {
    const creds = {
      accessKeyId: credentials.AccessKeyId!,
      secretAccessKey: credentials.SecretAccessKey!,
      sessionToken: credentials.SessionToken,
    };
    // The console link is a convenience: when the federation endpoint cannot be reached the
    // CLI credentials are still delivered, and Refresh tries the link again.
    let consoleSignIn: string | undefined;
    try {
      consoleSignIn = await consoleSignInUrl(creds, {
        federationEndpoint: this.options.federationEndpoint,
        destination: this.options.consoleUrl,
        fetch: this.options.fetch,
      });
    } catch (error) {
      this.options.logger?.warn(
        { accountId, roleName, err: error },
        'console sign-in link unavailable; delivering the CLI credentials alone',
      );
    }
    return {
      mode: 'credentials',
      accountId,
      roleArn,
      roleName,
      expiresAt,
      ...(consoleSignIn ? { consoleSignInUrl: consoleSignIn } : { consoleSignInUnavailable: true }),
      envExports: [
        `export AWS_ACCESS_KEY_ID=${creds.accessKeyId}`,
        `export AWS_SECRET_ACCESS_KEY=${creds.secretAccessKey}`,
        `export AWS_SESSION_TOKEN=${creds.sessionToken ?? ''}`,
        `export AWS_REGION=${region}`,
      ].join('\n'),
      sessionExpiresAt: credentials.Expiration,
    };
  }
}
