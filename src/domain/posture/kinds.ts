/** The posture finding kinds. Their names are part of the CLI's JSON output: never rename one. */
export const POSTURE_KINDS = [
  'user-direct-policy',
  'user-inline-policy',
  'inline-policy',
  'admin-equivalent',
  'unused-role',
  'unused-policy',
  'wildcard-policy',
  'open-trust',
  'access-role-drift',
] as const;
export type PostureKind = (typeof POSTURE_KINDS)[number];

export const POSTURE_LABELS: Record<PostureKind, string> = {
  'user-direct-policy': 'managed policies attached to users',
  'user-inline-policy': 'inline policies on users',
  'inline-policy': 'inline policies on groups or roles',
  'admin-equivalent': 'admin-equivalent principals',
  'unused-role': 'unused roles',
  'unused-policy': 'unattached customer-managed policies',
  'wildcard-policy': 'wildcard policies',
  'open-trust': 'roles open to other accounts',
  'access-role-drift': '/aws-access/ roles that drifted',
};

/** What to do about each kind, in one line for DMs and the security channel. */
export const POSTURE_REMEDIES: Record<PostureKind, string> = {
  'user-direct-policy': 'put the user in a group that carries the policy, then detach it from the user',
  'user-inline-policy':
    'move the statements into a managed policy attached to a group, then delete the inline policy',
  'inline-policy': 'move the statements into a customer-managed policy, then delete the inline policy',
  'admin-equivalent': 'scope the policies down (least privilege) or exempt the principal with a reason',
  'unused-role': 'delete the role, or exempt it with a reason if it is kept for emergencies',
  'unused-policy': 'delete the policy (it is attached to nothing)',
  'wildcard-policy': 'name the actions and resources the workload needs instead of `*`',
  'open-trust': 'add an sts:ExternalId or aws:PrincipalOrgID condition, or trust named roles only',
  'access-role-drift': 'the bot revokes orphaned roles on its next reconcile; find out who changed the role',
};
