/**
 * The grant engine: one IAM role per approved request, scoped by the template's boundary and
 * ended by IAM itself at the grant's end (see docs/aws-grants.md and DESIGN "How access is
 * granted"). Every step is idempotent, so a retried job converges instead of failing, and the
 * role is created first with all its tags, so a failure midway leaves a role reconcile finds.
 */
import { createHash } from 'node:crypto';
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  DeletePolicyVersionCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  type IAMClient,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesForRoleCommand,
  ListPolicyVersionsCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
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
import { AppError, ErrorCode } from '../errors.js';
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
  requesterName,
  revokedTrustPolicy,
  revokeSessionsPolicy,
  ROLE_NAME_PREFIX,
  ROLE_PATH,
  roleNameFor,
  sessionPolicy,
  TAG,
  trustPolicy,
} from '../templates/grant-policies.js';
import { renderVariables, type VariableValues } from '../templates/policy-variables.js';
import type { AccountClients } from './account-clients.js';
import { allPages } from './aws-clients.js';
import { isAwsError, toAwsError } from './aws-errors.js';
import { consoleSignInUrl } from './federation-sign-in.js';

/** Roles whose tags reconcile reads at once: faster than one by one, gentle on IAM throttling. */
const RECONCILE_TAG_CONCURRENCY = 8;
/** At most this many versions of a managed policy exist at once (AWS limit). */
const MAX_POLICY_VERSIONS = 5;
/** STS caps role-chained sessions at one hour; the broker session is a chain link. */
const MAX_CHAINED_SESSION_SECONDS = 3600;
const MIN_SESSION_SECONDS = 900;
const REQUEST_ID_RE = /^[A-Za-z0-9+=,.@_-]{1,53}$/;

export interface RoleGrantEngineOptions {
  clients: AccountClients;
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

/** Recursively key-sorted JSON, so two renderings of one policy compare equal. */
export function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v as object)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(sort(value));
}

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

  async grant(request: GrantRequest): Promise<GrantResult> {
    this.checkRequestId(request.requestId);
    const template = this.template(request.templateName);
    const { accountId, requestId } = request;
    const iam = await this.options.clients.iam(accountId);
    const roleName = roleNameFor(requestId);
    const roleArn = this.roleArn(accountId, requestId);
    const values = this.grantValues(request);
    const log = this.options.logger?.child({ requestId, accountId, template: template.name });

    const boundaryArn = await this.ensureBoundary(iam, accountId, template);
    const grantSeconds = Math.max(
      1,
      Math.ceil((request.expiresAt.getTime() - request.startsAt.getTime()) / 1000),
    );
    const trust = trustPolicy({
      principalArn: request.requester.principalArn,
      brokerRoleArn: this.brokerRoleArn(accountId),
      requiresMfa: template.requiresMfa,
      sourceIps: template.conditions.sourceIps,
    });

    await this.call(`creating role ${roleName} in ${accountId}`, async () => {
      try {
        await iam.send(
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
      } catch (error) {
        if (!isAwsError(error, 'EntityAlreadyExists')) throw error;
        // A retried grant: the role must be ours and this request's, then converge it.
        const existing = await iam.send(new GetRoleCommand({ RoleName: roleName }));
        if (tagValue(existing.Role?.Tags, TAG.requestId) !== requestId) {
          throw new AppError(ErrorCode.Conflict, `role ${roleName} exists and belongs to another request`);
        }
        await iam.send(
          new UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument: JSON.stringify(trust) }),
        );
      }
    });

    await this.call(`attaching policies to ${roleName}`, async () => {
      for (const arn of template.managedPolicyArns) {
        await iam.send(
          new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: renderVariables(arn, values) }),
        );
      }
      const inline = renderInline(template, values);
      if (inline) await this.putInline(iam, roleName, INLINE.grant, inline);
      const conditions = conditionsPolicy(template.conditions);
      if (conditions) await this.putInline(iam, roleName, INLINE.conditions, conditions);
      await this.putInline(iam, roleName, INLINE.expiry, expiryPolicy(request.expiresAt));
    });
    log?.info({ roleArn }, 'grant role created');

    const sts = await this.options.clients.sts(accountId);
    let delivery: Delivery;
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
      delivery = await this.credentialsDelivery(
        accountId,
        roleArn,
        roleName,
        request.expiresAt,
        credentials,
        values.region!,
      );
    } else {
      await this.waitUntilAssumable(roleArn, async () => {
        await sts.send(
          new AssumeRoleCommand({
            RoleArn: roleArn,
            RoleSessionName: 'aws-access-check',
            DurationSeconds: MIN_SESSION_SECONDS,
          }),
        );
      });
      delivery = this.assumeDelivery(
        accountId,
        roleArn,
        roleName,
        request.expiresAt,
        request.requester,
        template,
        values.region!,
      );
    }
    return { roleArn, roleName, delivery };
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
    const gone = (error: unknown) => {
      if (!isAwsError(error, 'NoSuchEntity')) throw error;
    };
    await this.call(`revoking role ${roleName} in ${accountId}`, async () => {
      // First end access (sessions already issued, then new ones); cleanup follows.
      await this.putInline(
        iam,
        roleName,
        INLINE.revoked,
        revokeSessionsPolicy(new Date(this.options.clock.now())),
      ).catch(gone);
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
        await iam
          .send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: p.PolicyArn }))
          .catch(gone);
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
    });
    this.options.logger?.info({ requestId, accountId, roleName }, 'grant role revoked');
    return { removed: true };
  }

  async extend(accountId: string, requestId: string, expiresAt: Date): Promise<void> {
    this.checkRequestId(requestId);
    const iam = await this.options.clients.iam(accountId);
    const roleName = roleNameFor(requestId);
    const role = await this.findRole(iam, roleName);
    if (!role) throw new AppError(ErrorCode.NotFound, `no role for request ${requestId} in ${accountId}`);
    await this.call(`extending role ${roleName}`, async () => {
      const inline = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }));
      if (inline.PolicyNames?.includes(INLINE.revoked)) {
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
    const report: ReconcileReport = { orphaned: [], overdue: [], missing: [] };
    const seen = new Set<string>();
    const candidates = roles.filter((r) => r.Path === ROLE_PATH && r.RoleName?.startsWith(ROLE_NAME_PREFIX));
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
      const requestId = tagValue(tags, TAG.requestId) ?? roleName.slice(ROLE_NAME_PREFIX.length);
      const expiresTag = tagValue(tags, TAG.expiresAt);
      const expiresAt = expiresTag ? new Date(expiresTag) : undefined;
      const managed: ManagedRole = { accountId, roleName, requestId, expiresAt };
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

  /** Ensures `/aws-access/boundary-<T>` holds the template's boundary as rendered for the account. */
  async ensureBoundary(iam: IAMClient, accountId: string, template: BoundaryTemplate): Promise<string> {
    const arn = this.boundaryArn(accountId, template.name);
    const document = renderBoundary(template, this.accountValues(accountId, template.name));
    const wanted = canonicalJson(document);
    const hash = createHash('sha256').update(wanted).digest('hex').slice(0, 16);
    return this.call(`updating boundary ${boundaryPolicyName(template.name)} in ${accountId}`, async () => {
      let defaultVersion: string | undefined;
      try {
        const existing = await iam.send(new GetPolicyCommand({ PolicyArn: arn }));
        defaultVersion = existing.Policy?.DefaultVersionId;
      } catch (error) {
        if (!isAwsError(error, 'NoSuchEntity')) throw error;
        try {
          await iam.send(
            new CreatePolicyCommand({
              PolicyName: boundaryPolicyName(template.name),
              Path: ROLE_PATH,
              PolicyDocument: JSON.stringify(document),
              Description: `aws-access boundary for template ${template.name} (sha256 ${hash})`,
              Tags: [
                { Key: TAG.managedBy, Value: MANAGED_BY },
                { Key: TAG.template, Value: template.name },
              ],
            }),
          );
          return arn;
        } catch (createError) {
          // Another grant created it meanwhile: compare with what it wrote.
          if (!isAwsError(createError, 'EntityAlreadyExists')) throw createError;
          defaultVersion = (await iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy
            ?.DefaultVersionId;
        }
      }
      if (defaultVersion) {
        const version = await iam.send(
          new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: defaultVersion }),
        );
        const current = version.PolicyVersion?.Document;
        if (current && canonicalJson(JSON.parse(decodeURIComponent(current))) === wanted) return arn;
      }
      const versions = (await iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn }))).Versions ?? [];
      if (versions.length >= MAX_POLICY_VERSIONS) {
        const oldest = versions
          .filter((v) => !v.IsDefaultVersion)
          .sort((a, b) => (a.CreateDate?.getTime() ?? 0) - (b.CreateDate?.getTime() ?? 0))
          .slice(0, versions.length - MAX_POLICY_VERSIONS + 1);
        for (const v of oldest) {
          await iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: v.VersionId }));
        }
      }
      await iam.send(
        new CreatePolicyVersionCommand({
          PolicyArn: arn,
          PolicyDocument: JSON.stringify(document),
          SetAsDefault: true,
        }),
      );
      this.options.logger?.info({ accountId, template: template.name, hash }, 'boundary policy updated');
      return arn;
    });
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
    const consoleSignIn = await consoleSignInUrl(creds, {
      federationEndpoint: this.options.federationEndpoint,
      destination: this.options.consoleUrl,
      fetch: this.options.fetch,
    });
    return {
      mode: 'credentials',
      accountId,
      roleArn,
      roleName,
      expiresAt,
      consoleSignInUrl: consoleSignIn,
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
