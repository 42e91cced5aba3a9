/**
 * Console sign-in link for a minted session (credentials mode), through the AWS federation
 * endpoint: getSigninToken exchanges the session for a token, the login URL carries the token.
 * The session credentials and the token are secrets: they never appear in an error message.
 * SessionDuration is left out on purpose: AWS rejects it for sessions from AssumeRole, whose
 * console session lasts as long as the credentials.
 */
import { AppError, ErrorCode } from '../errors.js';
import type { AwsCredentials } from './aws-clients.js';

export interface SignInOptions {
  federationEndpoint: string;
  destination: string;
  issuer?: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  attempts?: number;
}

export async function consoleSignInUrl(credentials: AwsCredentials, options: SignInOptions): Promise<string> {
  const doFetch = options.fetch ?? fetch;
  const session = JSON.stringify({
    sessionId: credentials.accessKeyId,
    sessionKey: credentials.secretAccessKey,
    sessionToken: credentials.sessionToken,
  });
  const tokenUrl = new URL(options.federationEndpoint);
  tokenUrl.searchParams.set('Action', 'getSigninToken');
  tokenUrl.searchParams.set('Session', session);
  const attempts = options.attempts ?? 3;
  let lastProblem = 'no answer';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const res = await doFetch(tokenUrl, { signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
      if (res.ok) {
        const body = (await res.json()) as { SigninToken?: string };
        if (!body.SigninToken)
          throw new AppError(ErrorCode.AwsFatal, 'the federation endpoint returned no SigninToken');
        const login = new URL(options.federationEndpoint);
        login.searchParams.set('Action', 'login');
        login.searchParams.set('Issuer', options.issuer ?? 'aws-access-bot');
        login.searchParams.set('Destination', options.destination);
        login.searchParams.set('SigninToken', body.SigninToken);
        return login.toString();
      }
      lastProblem = `HTTP ${res.status}`;
      if (res.status < 500 && res.status !== 429) break;
    } catch (error) {
      if (error instanceof AppError) throw error;
      // Only the error's name: a fetch error message may quote the URL, which holds the session.
      lastProblem = (error as Error).name;
    }
    if (attempt < attempts)
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt * (0.5 + Math.random())));
  }
  throw new AppError(
    ErrorCode.AwsRetryable,
    `getting a console sign-in token from ${new URL(options.federationEndpoint).origin} failed (${lastProblem})`,
  );
}
