/**
 * How the requester uses an Identity Center grant: the access portal (a shortcut link to the
 * account and permission set) and an AWS CLI profile on an `sso-session`, so `aws sso login`
 * gets them a session. No secret passes through Slack.
 */
import type { Delivery } from '../../domain/ports.js';

export function portalDelivery(input: {
  accessPortalUrl: string;
  instanceRegion: string;
  region: string;
  accountId: string;
  templateName: string;
  permissionSetArn: string;
  permissionSetName: string;
  expiresAt: Date;
}): Delivery {
  const portal = input.accessPortalUrl.replace(/\/+$/, '');
  const shortcut = new URL(`${portal}/#/console`);
  const query = new URLSearchParams({ account_id: input.accountId, role_name: input.permissionSetName });
  const profile = `aws-access-${input.templateName}-${input.accountId}`;
  return {
    mode: 'assume',
    accountId: input.accountId,
    roleArn: input.permissionSetArn,
    roleName: input.permissionSetName,
    expiresAt: input.expiresAt,
    accessPortalUrl: portal,
    switchRoleUrl: `${shortcut.toString()}?${query.toString()}`,
    cliProfile: [
      `[profile ${profile}]`,
      'sso_session = aws-access',
      `sso_account_id = ${input.accountId}`,
      `sso_role_name = ${input.permissionSetName}`,
      `region = ${input.region}`,
      '',
      '[sso-session aws-access]',
      `sso_start_url = ${portal}`,
      `sso_region = ${input.instanceRegion}`,
      'sso_registration_scopes = sso:account:access',
      '',
      `# aws sso login --sso-session aws-access && aws sts get-caller-identity --profile ${profile}`,
    ].join('\n'),
  };
}
