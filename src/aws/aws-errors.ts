/**
 * AWS failures as AppErrors the jobs can branch on: `aws_retryable` (throttling or 5xx that
 * outlived the SDK's own retries: try again later) or `aws_fatal` (quota, validation, access:
 * retrying will not help). Messages carry the AWS error code and message, which never hold
 * credentials, and never a request's parameters.
 */
import { AppError, ErrorCode } from '../errors.js';

export class AwsError extends AppError {
  constructor(
    readonly awsCode: string,
    readonly retryable: boolean,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(retryable ? ErrorCode.AwsRetryable : ErrorCode.AwsFatal, message, options);
  }
}

interface SdkErrorShape {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'PriorRequestNotComplete',
  'TransactionInProgressException',
  'ConcurrentModification',
  'ConcurrentModificationException',
]);

export function awsErrorCode(error: unknown): string | undefined {
  return (error as SdkErrorShape | undefined)?.name;
}

export function isAwsError(error: unknown, ...codes: string[]): boolean {
  const code = awsErrorCode(error);
  return code !== undefined && codes.includes(code);
}

export function isRetryableAwsError(error: unknown): boolean {
  const e = error as SdkErrorShape;
  const status = e?.$metadata?.httpStatusCode ?? 0;
  return THROTTLING.has(e?.name ?? '') || status >= 500 || Boolean(e?.$retryable);
}

/** Wraps an SDK error, saying what the bot was doing; AppErrors pass through unchanged. */
export function toAwsError(error: unknown, doing: string): AppError {
  if (error instanceof AppError) return error;
  const e = error as SdkErrorShape;
  const code = e?.name ?? 'Error';
  const retryable = isRetryableAwsError(error);
  let message = `${doing} failed: ${code}: ${e?.message ?? String(error)}`;
  if (code === 'LimitExceeded' || code === 'LimitExceededException') {
    message = `${doing} failed: an AWS quota is reached (${code}): ${e?.message ?? ''}`.trim();
  }
  return new AwsError(code, retryable, message, { cause: error });
}
