/**
 * Errors as data: callers branch on `code`, never on message text.
 */
export enum ErrorCode {
  ConfigInvalid = 'config_invalid',
  TemplateInvalid = 'template_invalid',
  Usage = 'usage',
  MissingSetting = 'missing_setting',
  NotFound = 'not_found',
  Forbidden = 'forbidden',
  Conflict = 'conflict',
  AwsRetryable = 'aws_retryable',
  AwsFatal = 'aws_fatal',
}

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One problem in a config or template file: which file, which field, what is wrong. */
export interface FileIssue {
  file: string;
  path: string;
  message: string;
}

export function formatFileIssue(issue: FileIssue): string {
  return `${issue.file}: ${issue.path || '(root)'}: ${issue.message}`;
}

export class ConfigError extends AppError {
  constructor(readonly issues: FileIssue[]) {
    super(ErrorCode.ConfigInvalid, issues.map(formatFileIssue).join('\n'));
  }
}

export class UsageError extends AppError {
  constructor(message: string) {
    super(ErrorCode.Usage, message);
  }
}

export class MissingSettingError extends AppError {
  constructor(
    readonly setting: string,
    why: string,
  ) {
    super(ErrorCode.MissingSetting, `${setting} is not set: ${why}`);
  }
}

/**
 * A grant failed after its role was created, and removing that role failed too: the request
 * must not be reported as "nothing was granted". The role's boundary may already be the deny-all
 * one (then it can do nothing); reconcile retries the removal.
 */
export class GrantRollbackError extends AppError {
  constructor(
    readonly accountId: string,
    readonly roleName: string,
    readonly roleArn: string,
    readonly grantFailure: unknown,
    readonly rollbackFailure: unknown,
  ) {
    super(
      ErrorCode.AwsRetryable,
      `the grant failed (${describe(grantFailure)}) and its role ${roleName} in ${accountId} could not be removed (${describe(rollbackFailure)})`,
    );
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
