/**
 * Identity Center does its work asynchronously: CreateAccountAssignment, DeleteAccountAssignment
 * and ProvisionPermissionSet answer with a status (IN_PROGRESS, SUCCEEDED or FAILED) and a
 * request id to ask about later. `waitForOperation` polls with jittered exponential backoff
 * (0.5 s doubling to 8 s) until the status is final or the timeout passes.
 */
import { AppError, ErrorCode } from '../../errors.js';
import { awsCall } from '../aws-errors.js';

export interface OperationStatus {
  Status?: string;
  RequestId?: string;
  FailureReason?: string;
}

export interface PollOptions {
  /** Give up (retryable) after this long; default 120 s. */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Thrown when the operation failed in Identity Center (not retryable as is). */
export class IdentityCenterOperationError extends AppError {
  constructor(
    readonly what: string,
    readonly failureReason: string,
  ) {
    super(ErrorCode.AwsFatal, `${what} failed in Identity Center: ${failureReason}`);
  }
}

/**
 * Waits until `first` (the status the starting call returned) is final, asking `describe` with
 * its request id. Returns the final status; throws IdentityCenterOperationError on FAILED and a
 * retryable AppError when it is still in progress at the timeout.
 */
export async function waitForOperation(
  what: string,
  first: OperationStatus | undefined,
  describe: (requestId: string) => Promise<OperationStatus | undefined>,
  options: PollOptions = {},
): Promise<OperationStatus> {
  const timeout = options.timeoutMs ?? 120_000;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  let status = first;
  let waited = 0;
  let delay = 500;
  for (;;) {
    if (!status?.Status)
      throw new AppError(ErrorCode.AwsFatal, `${what}: Identity Center returned no status`);
    if (status.Status === 'SUCCEEDED') return status;
    if (status.Status === 'FAILED')
      throw new IdentityCenterOperationError(what, status.FailureReason ?? 'no reason given');
    if (waited >= timeout) {
      throw new AppError(
        ErrorCode.AwsRetryable,
        `${what}: still ${status.Status} in Identity Center after ${Math.round(waited / 1000)} s`,
      );
    }
    const requestId = status.RequestId;
    if (!requestId) throw new AppError(ErrorCode.AwsFatal, `${what}: Identity Center returned no request id`);
    const pause = Math.min(delay * (0.5 + random()), timeout - waited);
    await sleep(pause);
    waited += pause;
    delay = Math.min(delay * 2, 8000);
    status = await awsCall(`${what} (status)`, () => describe(requestId));
  }
}
