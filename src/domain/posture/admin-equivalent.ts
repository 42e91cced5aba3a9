/**
 * `admin-equivalent`: a principal whose effective identity policies (its own, its groups', within
 * its permissions boundary) allow every action, or one of the known paths to that: passing a
 * role to new compute, rewriting a policy, granting itself more, minting another user's
 * credentials. Each question goes to the policy simulator, so `NotAction`, `Deny`, wildcards in
 * the middle of action names and boundaries count as IAM counts them. Service control policies,
 * resource policies and request conditions (MFA, source IP) are not simulated: a principal whose
 * admin rights need MFA is still reported.
 */
import { isBotManaged, isServiceLinked } from './checks.js';
import type { AuthorizationDetails, PolicySimulator, PostureFinding } from './types.js';

/** Actions across services that together stand for "everything": all allowed means `*:*`. */
export const EVERY_ACTION_PROBES = [
  'iam:CreateUser',
  'iam:PutRolePolicy',
  'organizations:LeaveOrganization',
  'ec2:TerminateInstances',
  's3:DeleteBucket',
  'kms:ScheduleKeyDeletion',
  'lambda:DeleteFunction',
  'dynamodb:DeleteTable',
  'cloudtrail:StopLogging',
  'sts:AssumeRole',
];

interface Probe {
  /** Shown in the finding. */
  says: string;
  /**
   * All must be allowed; `{self}` stands for the principal's own ARN, `{account}` and
   * `{partition}` for its account and partition.
   */
  needs: Array<{ action: string; resource: string }>;
  only?: Array<'user' | 'group' | 'role'>;
}

const COMPUTE_WITH_ROLE = [
  'ec2:RunInstances',
  'lambda:CreateFunction',
  'cloudformation:CreateStack',
  'glue:CreateDevEndpoint',
  'sagemaker:CreateNotebookInstance',
];

/** Known escalation paths (Rhino Security Labs' list, in the subset a simulator can answer). */
export const ESCALATION_PROBES: Probe[] = [
  ...COMPUTE_WITH_ROLE.map((compute) => ({
    says: `iam:PassRole with ${compute}`,
    needs: [
      { action: 'iam:PassRole', resource: 'arn:{partition}:iam::{account}:role/*' },
      { action: compute, resource: '*' },
    ],
  })),
  {
    says: 'iam:CreatePolicyVersion (rewrites managed policies)',
    needs: [{ action: 'iam:CreatePolicyVersion', resource: 'arn:{partition}:iam::{account}:policy/*' }],
  },
  {
    says: 'iam:SetDefaultPolicyVersion',
    needs: [{ action: 'iam:SetDefaultPolicyVersion', resource: 'arn:{partition}:iam::{account}:policy/*' }],
  },
  {
    says: 'iam:AttachUserPolicy on itself',
    needs: [{ action: 'iam:AttachUserPolicy', resource: '{self}' }],
    only: ['user'],
  },
  {
    says: 'iam:PutUserPolicy on itself',
    needs: [{ action: 'iam:PutUserPolicy', resource: '{self}' }],
    only: ['user'],
  },
  {
    says: 'iam:AddUserToGroup',
    needs: [{ action: 'iam:AddUserToGroup', resource: 'arn:{partition}:iam::{account}:group/*' }],
    only: ['user'],
  },
  {
    says: 'iam:AttachGroupPolicy on its own group',
    needs: [{ action: 'iam:AttachGroupPolicy', resource: '{self}' }],
    only: ['group'],
  },
  {
    says: 'iam:PutGroupPolicy on its own group',
    needs: [{ action: 'iam:PutGroupPolicy', resource: '{self}' }],
    only: ['group'],
  },
  {
    says: 'iam:AttachRolePolicy on itself',
    needs: [{ action: 'iam:AttachRolePolicy', resource: '{self}' }],
    only: ['role'],
  },
  {
    says: 'iam:PutRolePolicy on itself',
    needs: [{ action: 'iam:PutRolePolicy', resource: '{self}' }],
    only: ['role'],
  },
  {
    says: 'iam:UpdateAssumeRolePolicy on other roles',
    needs: [
      { action: 'iam:UpdateAssumeRolePolicy', resource: 'arn:{partition}:iam::{account}:role/posture-probe' },
    ],
  },
  {
    says: 'iam:CreateAccessKey on other users',
    needs: [{ action: 'iam:CreateAccessKey', resource: 'arn:{partition}:iam::{account}:user/posture-probe' }],
  },
  {
    says: 'iam:CreateLoginProfile on other users',
    needs: [
      { action: 'iam:CreateLoginProfile', resource: 'arn:{partition}:iam::{account}:user/posture-probe' },
    ],
  },
  {
    says: 'iam:UpdateLoginProfile on other users',
    needs: [
      { action: 'iam:UpdateLoginProfile', resource: 'arn:{partition}:iam::{account}:user/posture-probe' },
    ],
  },
];

interface Subject {
  type: 'user' | 'group' | 'role';
  name: string;
  arn: string;
  identityPolicies: unknown[];
  boundary?: unknown;
}

/**
 * Principals with the same policies get the same answers (most users only inherit their
 * groups'), so answers are shared within one review, keyed by the documents, the action and
 * the resource; by the principal too when a document could depend on who asks (policy
 * variables such as `${aws:username}`, principal condition keys).
 */
type Answers = Map<string, Promise<boolean>>;
const PRINCIPAL_DEPENDENT = /\$\{|aws:(principal|user)|aws:SourceIdentity/i;

function subjectKey(subject: Subject): string {
  const documents = JSON.stringify([subject.identityPolicies, subject.boundary ?? null]);
  return PRINCIPAL_DEPENDENT.test(documents) ? `${subject.arn}|${documents}` : `${subject.type}|${documents}`;
}

function subjects(details: AuthorizationDetails): Subject[] {
  const managed = new Map(details.policies.map((p) => [p.arn, p.document]));
  const docs = (p: {
    inlinePolicies: Array<{ document: unknown }>;
    attachedPolicies: Array<{ arn: string }>;
  }) => [
    ...p.inlinePolicies.map((i) => i.document),
    ...p.attachedPolicies.map((a) => managed.get(a.arn)).filter((d) => d !== undefined),
  ];
  const groups = new Map(details.groups.map((g) => [g.name, g]));
  const out: Subject[] = [];
  for (const user of details.users) {
    out.push({
      type: 'user',
      name: user.name,
      arn: user.arn,
      identityPolicies: [
        ...docs(user),
        ...user.groups.flatMap((g) => {
          const group = groups.get(g);
          return group ? docs(group) : [];
        }),
      ],
      boundary: user.permissionsBoundaryArn ? managed.get(user.permissionsBoundaryArn) : undefined,
    });
  }
  for (const group of details.groups) {
    out.push({ type: 'group', name: group.name, arn: group.arn, identityPolicies: docs(group) });
  }
  for (const role of details.roles) {
    // The bot's grant roles hold what an approver granted; `access-role-drift` watches them.
    if (isServiceLinked(role) || isBotManaged(role)) continue;
    out.push({
      type: 'role',
      name: role.name,
      arn: role.arn,
      identityPolicies: docs(role),
      boundary: role.permissionsBoundaryArn ? managed.get(role.permissionsBoundaryArn) : undefined,
    });
  }
  return out;
}

/** The simulator speaks for users and roles; a group is asked about as a member of it. */
function simulatedPrincipal(subject: Subject, accountId: string): string {
  const partition = subject.arn.split(':')[1] || 'aws';
  return subject.type === 'group'
    ? `arn:${partition}:iam::${accountId}:user/posture-probe-member`
    : subject.arn;
}

async function allAllowed(
  ask: Ask,
  subject: Subject,
  accountId: string,
  needs: Array<{ action: string; resource: string }>,
): Promise<boolean> {
  for (const need of needs) {
    const resource = need.resource
      .replace('{self}', subject.arn)
      .replace('{partition}', subject.arn.split(':')[1] || 'aws')
      .replace('{account}', accountId);
    if (!(await ask(subject, need.action, resource))) return false;
  }
  return true;
}

type Ask = (subject: Subject, action: string, resource: string) => Promise<boolean>;

function cachedAsk(simulator: PolicySimulator, accountId: string): Ask {
  const answers: Answers = new Map();
  const keys = new WeakMap<Subject, string>();
  return (subject, action, resource) => {
    let key = keys.get(subject);
    if (key === undefined) keys.set(subject, (key = subjectKey(subject)));
    const full = `${key}|${action}|${resource}`;
    let answer = answers.get(full);
    if (!answer) {
      answer = simulator.allows({
        principalArn: simulatedPrincipal(subject, accountId),
        action,
        resource,
        identityPolicies: subject.identityPolicies,
        boundary: subject.boundary,
      });
      answers.set(full, answer);
    }
    return answer;
  };
}

/** Why `subject` is admin-equivalent, or undefined. */
async function adminPath(ask: Ask, subject: Subject, accountId: string): Promise<string | undefined> {
  if (subject.identityPolicies.length === 0) return undefined;
  const everything = EVERY_ACTION_PROBES.map((action) => ({ action, resource: '*' }));
  if (await allAllowed(ask, subject, accountId, everything)) return 'allows every action on every resource';
  for (const probe of ESCALATION_PROBES) {
    if (probe.only && !probe.only.includes(subject.type)) continue;
    if (await allAllowed(ask, subject, accountId, probe.needs)) return `can escalate: ${probe.says}`;
  }
  return undefined;
}

export async function adminEquivalentFindings(
  details: AuthorizationDetails,
  simulator: PolicySimulator,
): Promise<PostureFinding[]> {
  const out: PostureFinding[] = [];
  const ask = cachedAsk(simulator, details.accountId);
  for (const subject of subjects(details)) {
    const why = await adminPath(ask, subject, details.accountId);
    if (!why) continue;
    out.push({
      id: `admin-equivalent:${subject.arn}`,
      kind: 'admin-equivalent',
      accountId: details.accountId,
      arn: subject.arn,
      detail: `${subject.type} ${subject.name} is admin-equivalent: ${why}`,
    });
  }
  return out;
}
