import { describe, expect, it } from 'vitest';
import { isAwsError, isRetryableAwsError, toAwsError } from '../../../src/aws/aws-errors.js';
import { consoleSignInUrl } from '../../../src/aws/federation-sign-in.js';
import { ErrorCode } from '../../../src/errors.js';
import { maxSessionDurationFor, requesterName } from '../../../src/templates/grant-policies.js';

const sdkError = (name: string, status: number) =>
  Object.assign(new Error(`${name} happened`), {
    name,
    $metadata: { httpStatusCode: status, requestId: 'r-1' },
    $response: { headers: { 'x-amz-security-token': 'SECRET-TOKEN' } },
  });

describe('AWS errors as AppErrors', () => {
  it('throttling and 5xx are retryable; quota and validation are not', () => {
    expect(toAwsError(sdkError('Throttling', 400), 'x').code).toBe(ErrorCode.AwsRetryable);
    expect(toAwsError(sdkError('TooManyRequestsException', 400), 'x').code).toBe(ErrorCode.AwsRetryable);
    expect(toAwsError(sdkError('ServiceFailureException', 500), 'x').code).toBe(ErrorCode.AwsRetryable);
    expect(toAwsError(sdkError('LimitExceededException', 409), 'x').code).toBe(ErrorCode.AwsFatal);
    expect(toAwsError(sdkError('MalformedPolicyDocumentException', 400), 'x').code).toBe(ErrorCode.AwsFatal);
    expect(isRetryableAwsError(sdkError('ValidationError', 400))).toBe(false);
  });

  it('says what the bot was doing, names a quota clearly, and keeps the signed request out', () => {
    const error = toAwsError(sdkError('LimitExceededException', 409), 'creating role aws-access-1');
    expect(error.message).toBe(
      'creating role aws-access-1 failed: an AWS quota is reached (LimitExceededException): LimitExceededException happened',
    );
    expect(JSON.stringify({ ...error, cause: error.cause })).not.toContain('SECRET-TOKEN');
  });

  it('matches IAM codes with or without the SDK Exception suffix', () => {
    expect(isAwsError(sdkError('NoSuchEntityException', 404), 'NoSuchEntity')).toBe(true);
    expect(isAwsError(sdkError('NoSuchEntity', 404), 'NoSuchEntityException')).toBe(true);
    expect(isAwsError(sdkError('EntityAlreadyExistsException', 409), 'NoSuchEntity')).toBe(false);
  });
});

describe('grant details', () => {
  it('MaxSessionDuration fits the grant within IAM bounds', () => {
    expect(maxSessionDurationFor(600)).toBe(3600);
    expect(maxSessionDurationFor(2 * 3600 + 5)).toBe(7260);
    expect(maxSessionDurationFor(86400)).toBe(43200);
  });

  it('the requester name is safe for SourceIdentity and tags', () => {
    expect(requesterName({ slackUserId: 'U1', email: 'a.b+c@example.com' })).toBe('a.b+c@example.com');
    expect(requesterName({ slackUserId: 'U0ABC' })).toBe('U0ABC');
    expect(requesterName({ slackUserId: 'U1', email: 'we ird!@x.io' })).toBe('we-ird-@x.io');
  });
});

describe('console sign-in through the federation endpoint', () => {
  const creds = { accessKeyId: 'ASIAKEY', secretAccessKey: 'SECRET-KEY', sessionToken: 'SECRET-TOKEN' };

  it('never puts the session in an error message', async () => {
    let calls = 0;
    const failing = (async () => {
      calls += 1;
      return new Response('nope', { status: 503 });
    }) as typeof fetch;
    const error = await consoleSignInUrl(creds, {
      federationEndpoint: 'https://signin.example/federation',
      destination: 'https://console.example/',
      fetch: failing,
      attempts: 2,
    }).catch((e: Error) => e);
    expect(calls).toBe(2);
    expect((error as Error).message).toBe(
      'getting a console sign-in token from https://signin.example failed (HTTP 503)',
    );
    expect((error as Error).message).not.toMatch(/SECRET|ASIAKEY/);
  });
});
