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

/** The SDK names IAM errors `NoSuchEntityException` where the wire says `NoSuchEntity`. */
function bare(code: string): string {
  return code.replace(/Exception$/, '');
}

export function isAwsError(error: unknown, ...codes: string[]): boolean {
  const code = awsErrorCode(error);
  return code !== undefined && codes.some((c) => bare(c) === bare(code));
}

export function isRetryableAwsError(error: unknown): boolean {
  const e = error as SdkErrorShape;
  const status = e?.$metadata?.httpStatusCode ?? 0;
  return (
    THROTTLING.has(e?.name ?? '') ||
    THROTTLING.has(bare(e?.name ?? '')) ||
    status >= 500 ||
    Boolean(e?.$retryable)
  );
}

/** Wraps an SDK error, saying what the bot was doing; AppErrors pass through unchanged. */
export function toAwsError(error: unknown, doing: string): AppError {
  if (error instanceof AppError) return error;
  const e = error as SdkErrorShape;
  const code = e?.name ?? 'Error';
  const retryable = isRetryableAwsError(error);
  let message = `${doing} failed: ${code}: ${e?.message ?? String(error)}`;
  if (bare(code) === 'LimitExceeded') {
    message = `${doing} failed: an AWS quota is reached (${code}): ${e?.message ?? ''}`.trim();
  }
  // Not the SDK error itself as cause: its $response holds the signed request headers,
  // session token included, and a cause ends up in logs.
  return new AwsError(code, retryable, message, {
    cause: {
      name: code,
      httpStatusCode: e?.$metadata?.httpStatusCode,
      requestId: (e?.$metadata as { requestId?: string })?.requestId,
    },
  });
}

/** Runs `fn`, turning an SDK error into an AwsError that says what the bot was doing. */
export async function awsCall<T>(doing: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toAwsError(error, doing);
  }
}
