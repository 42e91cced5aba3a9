/**
 * IAM change alerts: which CloudTrail IAM events the security channel hears about, said in
 * words (who did what to what, where), and which ones make the bot reconcile an account at
 * once: any change under `/aws-access/` not made by the bot's own broker or boundary writer.
 */

/** One CloudTrail IAM management event, as EventBridge delivers it (parsed by the adapter). */
export interface IamChangeEvent {
  /** The EventBridge event id: the idempotency key. */
  id: string;
  accountId: string;
  /** ISO time of the call. */
  at: string;
  eventName: string;
  actor: {
    /** CloudTrail userIdentity.type: IAMUser, AssumedRole, Root, AWSService, … */
    type: string;
    arn?: string;
    /** The role an assumed-role session belongs to (sessionContext.sessionIssuer.arn). */
    issuerArn?: string;
    invokedBy?: string;
  };
  requestParameters: Record<string, unknown>;
  errorCode?: string;
  sourceIp?: string;
}

export interface ChangeAlertSettings {
  /** IAM API names posted (config posture.alerts.events). */
  events: readonly string[];
  /** The bot's own role names (broker, boundary writer): their changes are expected. */
  botRoleNames: readonly string[];
}

export interface ChangeAlert {
  eventId: string;
  accountId: string;
  at: string;
  /** One line in words, no mrkdwn: the Slack adapter escapes it. */
  text: string;
  /** A change to the bot's own roles or boundaries by someone else. */
  accessPath: boolean;
}

export interface ChangeDecision {
  alert?: ChangeAlert;
  /** Reconcile this account now. */
  reconcileAccountId?: string;
}

const ACCESS_PATH = '/aws-access/';
const BOT_ROLE_NAME = /^aws-access-/;

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** Whether the call touched a role or policy the bot owns (path, ARN or `aws-access-` role). */
export function touchesAccessPath(event: IamChangeEvent): boolean {
  const p = event.requestParameters;
  if (text(p.path)?.startsWith(ACCESS_PATH)) return true;
  const roleName = text(p.roleName);
  if (roleName && BOT_ROLE_NAME.test(roleName)) return true;
  return Object.values(p).some((v) => typeof v === 'string' && /:(role|policy)\/aws-access\//.test(v));
}

/** The role name in a role or assumed-role ARN. */
function roleNameOf(arn: string | undefined): string | undefined {
  if (!arn) return undefined;
  return /:role\/(?:.*\/)?([^/]+)$/.exec(arn)?.[1] ?? /:assumed-role\/([^/]+)\//.exec(arn)?.[1];
}

export function isBotActor(event: IamChangeEvent, settings: ChangeAlertSettings): boolean {
  const role = roleNameOf(event.actor.issuerArn) ?? roleNameOf(event.actor.arn);
  return role !== undefined && settings.botRoleNames.includes(role);
}

/** Who made the call, in words. */
export function actorText(event: IamChangeEvent): string {
  const { actor } = event;
  if (actor.type === 'Root') return 'the root user';
  if (actor.type === 'AWSService') return `AWS service ${actor.invokedBy ?? 'unknown'}`;
  if (actor.arn) {
    const session = /:assumed-role\/([^/]+)\/(.+)$/.exec(actor.arn);
    if (session) return `${session[2]} (via role ${session[1]})`;
    const user = /:user\/(?:.*\/)?([^/]+)$/.exec(actor.arn);
    if (user) return `IAM user ${user[1]}`;
    return actor.arn;
  }
  return `an unknown ${actor.type || 'principal'}`;
}

/** What the call did, in words. */
export function actionText(event: IamChangeEvent): string {
  const p = event.requestParameters;
  const user = text(p.userName);
  const role = text(p.roleName);
  switch (event.eventName) {
    case 'CreateUser':
      return `created IAM user ${user ?? '?'}`;
    case 'CreateAccessKey':
      return user ? `created an access key for user ${user}` : 'created an access key for themselves';
    case 'AttachUserPolicy':
      return `attached ${text(p.policyArn) ?? 'a policy'} to user ${user ?? '?'}`;
    case 'PutUserPolicy':
      return `put inline policy ${text(p.policyName) ?? '?'} on user ${user ?? '?'}`;
    case 'CreateLoginProfile':
      return `gave user ${user ?? '?'} a console password`;
    case 'DeactivateMFADevice':
      return `deactivated the MFA device of user ${user ?? '?'}`;
    case 'UpdateAssumeRolePolicy':
      return `changed the trust policy of role ${role ?? '?'}`;
    case 'DeleteRolePermissionsBoundary':
      return `removed the permissions boundary of role ${role ?? '?'}`;
    case 'AttachRolePolicy':
      return `attached ${text(p.policyArn) ?? 'a policy'} to role ${role ?? '?'}`;
    case 'PutRolePolicy':
      return `put inline policy ${text(p.policyName) ?? '?'} on role ${role ?? '?'}`;
    case 'CreateRole':
      return `created role ${text(p.path) ?? ''}${role ?? '?'}`;
    case 'DeleteRole':
      return `deleted role ${role ?? '?'}`;
    default: {
      const target = role ?? user ?? text(p.groupName) ?? text(p.policyArn) ?? text(p.policyName);
      return `called ${event.eventName}${target ? ` on ${target}` : ''}`;
    }
  }
}

export function describeChange(event: IamChangeEvent, settings: ChangeAlertSettings): ChangeDecision {
  const accessPath = touchesAccessPath(event) && !isBotActor(event, settings);
  if (!accessPath && !settings.events.includes(event.eventName)) return {};
  const failed = event.errorCode ? ` — refused: ${event.errorCode}` : '';
  const verb = event.errorCode ? `tried: ${actionText(event)}` : actionText(event);
  const from = event.sourceIp ? ` from ${event.sourceIp}` : '';
  const alert: ChangeAlert = {
    eventId: event.id,
    accountId: event.accountId,
    at: event.at,
    text: `${actorText(event)} ${verb}${from}${failed}${accessPath ? ' (a bot-managed /aws-access/ role or policy, changed outside the bot)' : ''}`,
    accessPath,
  };
  // A refused call changed nothing: posted, but no reconcile.
  return accessPath && !event.errorCode ? { alert, reconcileAccountId: event.accountId } : { alert };
}
