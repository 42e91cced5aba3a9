/**
 * The IAM documents a grant is made of, built from a template and a grant. Pure, so template
 * validation can measure them against AWS size limits and the policy-evaluation tests can feed
 * exactly what the grant engine sends to IAM.
 */
import type { BoundaryTemplate } from './boundary-template.js';
import type { PolicyDocument, PolicyStatement } from './policy-document.js';
import { renderVariables, type VariableValues } from './policy-variables.js';

export const ROLE_PATH = '/aws-access/';
export const ROLE_NAME_PREFIX = 'aws-access-';
export const MANAGED_BY = 'aws-access-bot';

export const TAG = {
  requestId: 'aws-access:request-id',
  requester: 'aws-access:requester',
  template: 'aws-access:template',
  expiresAt: 'aws-access:expires-at',
  managedBy: 'managed-by',
} as const;

export const INLINE = {
  grant: 'grant',
  expiry: 'expiry',
  conditions: 'conditions',
  revoked: 'revoked',
} as const;

export function roleNameFor(requestId: string): string {
  return `${ROLE_NAME_PREFIX}${requestId}`;
}

/** Request ids that can name a role: IAM's role-name characters, 64 with the prefix. */
export const REQUEST_ID_RE = /^[A-Za-z0-9+=,.@_-]{1,53}$/;

/** The request id a role name stands for, or undefined when the name is not one of ours. */
export function requestIdOfRole(roleName: string): string | undefined {
  if (!roleName.startsWith(ROLE_NAME_PREFIX)) return undefined;
  const id = roleName.slice(ROLE_NAME_PREFIX.length);
  return REQUEST_ID_RE.test(id) ? id : undefined;
}

/**
 * The deny-all boundary a role gets as the first step of its removal, created by the StackSet
 * (deploy/aws/broker-role.yaml), never by the bot. The broker may set no other boundary on an
 * existing role, and may only take policies off, rewrite the trust of, or delete a role that
 * carries it: whatever the bot does to a grant role's deny statements, it does to a role that
 * can no longer do anything.
 */
export const REVOKED_BOUNDARY_NAME = 'aws-access-revoked';

export function boundaryPolicyName(templateName: string): string {
  return `boundary-${templateName}`;
}

/** IAM write actions that could loosen a grant or the bot itself. */
const GUARDED_IAM_ACTIONS = [
  'iam:Add*',
  'iam:Attach*',
  'iam:Create*',
  'iam:Delete*',
  'iam:Detach*',
  'iam:PassRole',
  'iam:Put*',
  'iam:Remove*',
  'iam:SetDefaultPolicyVersion',
  'iam:Tag*',
  'iam:Untag*',
  'iam:Update*',
];

/**
 * Appended to every boundary, so no template can forget it: nobody holding a grant may change
 * the bot's roles and policies under /aws-access/ (their own boundary, expiry or trust included)
 * or the broker role, nor assume the broker.
 */
export function guardStatements(): PolicyStatement[] {
  return [
    {
      Sid: 'AwsAccessBotGuardRoles',
      Effect: 'Deny',
      Action: GUARDED_IAM_ACTIONS,
      Resource: [
        'arn:${partition}:iam::${account_id}:role/aws-access/*',
        'arn:${partition}:iam::${account_id}:policy/aws-access/*',
        // The bot's own roles: the broker, the boundary writer and the bot's identity
        // (aws-access-bot in its own account) by their default names, the broker by its name.
        'arn:${partition}:iam::${account_id}:role/aws-access-*',
        'arn:${partition}:iam::${account_id}:role/*/aws-access-*',
        'arn:${partition}:iam::${account_id}:policy/aws-access-*',
        'arn:${partition}:iam::${account_id}:policy/*/aws-access-*',
        'arn:${partition}:iam::${account_id}:role/${broker_role_name}',
        'arn:${partition}:iam::${account_id}:role/*/${broker_role_name}',
      ],
    },
    {
      // Nor assume the bot's roles, or someone else's grant (role chaining past its trust).
      Sid: 'AwsAccessBotGuardBroker',
      Effect: 'Deny',
      Action: 'sts:AssumeRole',
      Resource: [
        'arn:${partition}:iam::${account_id}:role/aws-access-*',
        'arn:${partition}:iam::${account_id}:role/aws-access/*',
        'arn:${partition}:iam::${account_id}:role/${broker_role_name}',
        'arn:${partition}:iam::${account_id}:role/*/${broker_role_name}',
      ],
    },
  ];
}

/** The boundary as IAM gets it: the template's statements plus the guard, variables rendered. */
export function renderBoundary(
  template: Pick<BoundaryTemplate, 'boundary'>,
  values: VariableValues,
): PolicyDocument {
  const policy: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [...template.boundary.Statement, ...guardStatements()],
  };
  return renderVariables(policy, values);
}

export function renderInline(template: Pick<BoundaryTemplate, 'inlinePolicy'>, values: VariableValues) {
  return template.inlinePolicy ? renderVariables(template.inlinePolicy, values) : undefined;
}

/** Denies everything once the grant has ended: IAM ends access even if every job failed. */
export function expiryPolicy(expiresAt: Date): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DenyAfterGrantEnds',
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { DateGreaterThan: { 'aws:CurrentTime': expiresAt.toISOString() } },
      },
    ],
  };
}

/**
 * Global services answer in us-east-1 whatever region a console user picks, so the region
 * condition leaves them out (AWS's own region-deny example does the same).
 */
const GLOBAL_SERVICE_ACTIONS = [
  'iam:*',
  'sts:*',
  'organizations:*',
  'account:*',
  'support:*',
  'cloudfront:*',
  'route53:*',
  'route53domains:*',
  'health:*',
  'trustedadvisor:*',
  'budgets:*',
  'ce:*',
  'globalaccelerator:*',
  'waf:*',
  'shield:*',
  's3:ListAllMyBuckets',
  's3:GetBucketLocation',
];

/** The template's optional source-IP and region conditions as deny statements. */
export function conditionsPolicy(conditions: BoundaryTemplate['conditions']): PolicyDocument | undefined {
  const statements: PolicyStatement[] = [];
  if (conditions.sourceIps?.length) {
    statements.push({
      Sid: 'DenyOutsideSourceIps',
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: {
        NotIpAddress: { 'aws:SourceIp': conditions.sourceIps },
        // Calls AWS services make on the user's behalf come from AWS addresses.
        Bool: { 'aws:ViaAWSService': 'false' },
      },
    });
  }
  if (conditions.regions?.length) {
    statements.push({
      Sid: 'DenyOutsideRegions',
      Effect: 'Deny',
      NotAction: GLOBAL_SERVICE_ACTIONS,
      Resource: '*',
      Condition: { StringNotEquals: { 'aws:RequestedRegion': conditions.regions } },
    });
  }
  return statements.length ? { Version: '2012-10-17', Statement: statements } : undefined;
}

export interface TrustInput {
  principalArn: string;
  /** Required when `principalArn` is a role: the requester's session name in it. */
  principalSessionName?: string;
  brokerRoleArn: string;
  requiresMfa: boolean;
  sourceIps?: string[];
}

const ROLE_PRINCIPAL_RE = /^arn:[^:]+:iam::\d{12}:role\/.+$/;
const SESSION_PRINCIPAL_RE = /^arn:[^:]+:sts::\d{12}:assumed-role\/[^/]+\/[^/]+$/;
/** RoleSessionName's characters (STS): a session name outside them cannot be anybody's. */
const SESSION_NAME_RE = /^[\w+=,.@-]{2,64}$/;

/** Thrown when the requester's principal cannot be pinned to one person. */
export class UnpinnablePrincipalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnpinnablePrincipalError';
  }
}

/**
 * How the trust names the requester. An IAM user or an assumed-role session ARN (valid as a
 * trust principal) is one person already. A role is shared by everyone who may assume it, so
 * the role is trusted only for the requester's session: `aws:userid` of a role session is
 * `<role unique id>:<session name>`. Without a session name a role cannot be pinned: refused.
 */
export function requesterPrincipal(input: Pick<TrustInput, 'principalArn' | 'principalSessionName'>): {
  principal: string;
  condition?: Record<string, Record<string, string>>;
} {
  const { principalArn, principalSessionName } = input;
  if (SESSION_PRINCIPAL_RE.test(principalArn)) return { principal: principalArn };
  if (ROLE_PRINCIPAL_RE.test(principalArn)) {
    if (!principalSessionName) {
      throw new UnpinnablePrincipalError(
        `the requester's AWS principal ${principalArn} is a role that anyone allowed to assume it shares; a grant cannot be pinned to one person without their session name in that role (identity map: give the session name, or map the assumed-role session ARN)`,
      );
    }
    if (!SESSION_NAME_RE.test(principalSessionName)) {
      throw new UnpinnablePrincipalError(
        `the session name "${principalSessionName.slice(0, 70)}" for ${principalArn} is not a valid STS role session name`,
      );
    }
    return {
      principal: principalArn,
      condition: { StringLike: { 'aws:userid': `*:${principalSessionName}` } },
    };
  }
  return { principal: principalArn };
}

export function trustPolicy(input: TrustInput) {
  const pinned = requesterPrincipal(input);
  const requesterCondition: Record<string, Record<string, unknown>> = { ...pinned.condition };
  if (input.requiresMfa) requesterCondition.Bool = { 'aws:MultiFactorAuthPresent': 'true' };
  if (input.sourceIps?.length) requesterCondition.IpAddress = { 'aws:SourceIp': input.sourceIps };
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Requester',
        Effect: 'Allow',
        Principal: { AWS: pinned.principal },
        Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
        ...(Object.keys(requesterCondition).length ? { Condition: requesterCondition } : {}),
      },
      {
        // The bot checks the role is assumable and, in credentials mode, mints the session.
        Sid: 'Broker',
        Effect: 'Allow',
        Principal: { AWS: input.brokerRoleArn },
        Action: ['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession'],
      },
    ],
  };
}

/** The StackSet's deny-all boundary (REVOKED_BOUNDARY_NAME) as IAM holds it. */
export function revokedBoundaryPolicy(): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [{ Sid: 'RoleBeingRemoved', Effect: 'Deny', Action: '*', Resource: '*' }],
  };
}

/** What the trust becomes on revoke: nobody may assume the role any more. */
export function revokedTrustPolicy() {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Revoked',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: ['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession'],
      },
    ],
  };
}

/** Kills sessions already issued: AWS's own "revoke active sessions" mechanism. */
export function revokeSessionsPolicy(now: Date): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'RevokeOlderSessions',
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { DateLessThan: { 'aws:TokenIssueTime': now.toISOString() } },
      },
    ],
  };
}

/** credentials mode: the template's session policy, or one that also stops at the grant's end. */
export function sessionPolicy(
  template: Pick<BoundaryTemplate, 'sessionPolicy'>,
  values: VariableValues,
  expiresAt: Date,
): PolicyDocument {
  if (template.sessionPolicy) return renderVariables(template.sessionPolicy, values);
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'UntilGrantEnds',
        Effect: 'Allow',
        Action: '*',
        Resource: '*',
        Condition: { DateLessThan: { 'aws:CurrentTime': expiresAt.toISOString() } },
      },
    ],
  };
}

/** IAM's MaxSessionDuration must lie in [1 h, 12 h]; the expiry policy ends shorter grants. */
export function maxSessionDurationFor(grantSeconds: number): number {
  return Math.min(43200, Math.max(3600, Math.ceil(grantSeconds / 60) * 60));
}

/** SourceIdentity and tag values: a recognisable, IAM-safe name for the requester. */
export function requesterName(requester: { email?: string; slackUserId: string }): string {
  const raw = requester.email ?? requester.slackUserId;
  const safe = raw.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
  return safe.length >= 2 ? safe : `${safe}--`.slice(0, 2);
}
