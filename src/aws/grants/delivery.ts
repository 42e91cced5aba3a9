/**
 * Delivery of a grant to its requester, never in a channel, never in a log: in `assume` mode a
 * console switch-role link and a CLI profile (the user assumes with their own identity); in
 * `credentials` mode a session the bot mints on the role, with a console sign-in link. Both
 * wait until IAM makes the new role assumable.
 */
import { AssumeRoleCommand, type Credentials } from '@aws-sdk/client-sts';
import type { Delivery, GrantRequest, Requester } from '../../domain/ports.js';
import { AppError, ErrorCode } from '../../errors.js';
import type { BoundaryTemplate } from '../../templates/boundary-template.js';
import {
  maxSessionDurationFor,
  requesterName,
  ROLE_PATH,
  roleNameFor,
  sessionPolicy,
  TAG,
} from '../../templates/grant-policies.js';
import type { VariableValues } from '../../templates/policy-variables.js';
import type { AccountClients } from '../account-clients.js';
import { consoleSignInUrl } from '../federation-sign-in.js';
import { waitUntilAssumable } from './assumable-wait.js';
import type { RoleGrantEngineOptions } from './grant-options.js';
import { checkRequestId, grantTemplate, grantValues, roleArn as grantRoleArn } from './grant-names.js';
import { findRole, tagValue } from './grant-role.js';

/** STS caps role-chained sessions at one hour; the broker session is a chain link. */
const MAX_CHAINED_SESSION_SECONDS = 3600;
const MIN_SESSION_SECONDS = 900;

export async function deliver(
  options: RoleGrantEngineOptions,
  request: GrantRequest,
  template: BoundaryTemplate,
  roleArn: string,
  roleName: string,
  values: VariableValues,
): Promise<Delivery> {
  const { accountId } = request;
  const sts = await options.clients.sts(accountId);
  if (options.delivery === 'credentials') {
    const credentials = await assumable(options, roleArn, () =>
      mintSession(
        options,
        sts,
        roleArn,
        template,
        request.requester,
        request.requestId,
        request.expiresAt,
        values,
      ),
    );
    return credentialsDelivery(
      options,
      accountId,
      roleArn,
      roleName,
      request.expiresAt,
      credentials,
      values.region!,
    );
  }
  await assumable(options, roleArn, async () => {
    await sts.send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: 'aws-access-check',
        DurationSeconds: MIN_SESSION_SECONDS,
      }),
    );
  });
  return assumeDelivery(
    options,
    accountId,
    roleArn,
    roleName,
    request.expiresAt,
    request.requester,
    template,
    values.region!,
  );
}

/** The wait of assumable-wait.ts with the engine's settings; logs how many tries it took. */
async function assumable<T>(
  options: RoleGrantEngineOptions,
  roleArn: string,
  attempt: () => Promise<T>,
): Promise<T> {
  const { value, tries, waitedMs } = await waitUntilAssumable(roleArn, attempt, {
    timeoutMs: options.assumableTimeoutMs,
    sleep: options.sleep,
  });
  if (tries > 1) {
    options.logger?.info({ roleArn, tries, waitedMs: Math.round(waitedMs) }, 'grant role became assumable');
  }
  return value;
}

export async function refreshDelivery(
  options: RoleGrantEngineOptions,
  accountId: string,
  requestId: string,
  requester: Requester,
): Promise<Delivery> {
  checkRequestId(requestId);
  const iam = await options.clients.iam(accountId);
  const roleName = roleNameFor(requestId);
  const role = await findRole(iam, roleName);
  if (!role) throw new AppError(ErrorCode.NotFound, `no role for request ${requestId} in ${accountId}`);
  const expiresAt = new Date(tagValue(role.Tags, TAG.expiresAt) ?? 0);
  if (!(expiresAt.getTime() > options.clock.now())) {
    throw new AppError(ErrorCode.Conflict, `the grant for request ${requestId} has ended`);
  }
  const template = grantTemplate(options, tagValue(role.Tags, TAG.template) ?? '');
  const roleArn = role.Arn ?? grantRoleArn(options, accountId, requestId);
  const values = grantValues(options, {
    requestId,
    accountId,
    templateName: template.name,
    requester,
    startsAt: role.CreateDate ?? new Date(options.clock.now()),
    expiresAt,
  });
  if (options.delivery === 'assume') {
    return assumeDelivery(
      options,
      accountId,
      roleArn,
      roleName,
      expiresAt,
      requester,
      template,
      values.region!,
    );
  }
  const sts = await options.clients.sts(accountId);
  const credentials = await mintSession(
    options,
    sts,
    roleArn,
    template,
    requester,
    requestId,
    expiresAt,
    values,
  );
  return credentialsDelivery(options, accountId, roleArn, roleName, expiresAt, credentials, values.region!);
}

async function mintSession(
  options: RoleGrantEngineOptions,
  sts: Awaited<ReturnType<AccountClients['sts']>>,
  roleArn: string,
  template: BoundaryTemplate,
  requester: Requester,
  requestId: string,
  expiresAt: Date,
  values: VariableValues,
): Promise<Credentials> {
  const name = requesterName(requester);
  const remaining = Math.floor((expiresAt.getTime() - options.clock.now()) / 1000);
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

function assumeDelivery(
  options: RoleGrantEngineOptions,
  accountId: string,
  roleArn: string,
  roleName: string,
  expiresAt: Date,
  requester: Requester,
  template: BoundaryTemplate,
  region: string,
): Delivery {
  const signIn = new URL(options.federationEndpoint).origin;
  const switchRole = new URL('/switchrole', signIn);
  // A role with a path is named path/name in the console's switch-role form.
  switchRole.searchParams.set('roleName', `${ROLE_PATH.slice(1)}${roleName}`);
  switchRole.searchParams.set('account', accountId);
  switchRole.searchParams.set('displayName', `${template.name}@${accountId}`.slice(0, 64));
  const remaining = Math.floor((expiresAt.getTime() - options.clock.now()) / 1000);
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

async function credentialsDelivery(
  options: RoleGrantEngineOptions,
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
      federationEndpoint: options.federationEndpoint,
      destination: options.consoleUrl,
      fetch: options.fetch,
    });
  } catch (error) {
    options.logger?.warn(
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
