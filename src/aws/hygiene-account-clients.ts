/**
 * A minimal AccountClients: assume the broker role in the target account with the bot's own
 * credentials and cache the session until five minutes before it ends. The grant engine's
 * broker session cache implements the same port for the running service; this one serves the
 * `hygiene` CLI and tests.
 */
import { IAMClient, type IAMClientConfig } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AccountClients } from './account-clients.js';

export interface AssumeRoleAccountClientsOptions {
  region: string;
  roleName: string;
  externalId?: string;
  sessionDurationSeconds?: number;
  /** AWS_ENDPOINT_URL (moto in tests). */
  endpoint?: string;
  /** Lets tests add middleware (e.g. to count IAM calls) to each IAM client. */
  configureIam?: (client: IAMClient, accountId: string) => void;
  stsClient?: STSClient;
  now?: () => number;
}

interface Session {
  expiresAt: number;
  iam: IAMClient;
  sts: STSClient;
}

export function assumeRoleAccountClients(options: AssumeRoleAccountClientsOptions): AccountClients {
  const baseSts = options.stsClient ?? new STSClient({ region: options.region, endpoint: options.endpoint });
  const now = options.now ?? Date.now;
  const sessions = new Map<string, Promise<Session>>();

  async function open(accountId: string): Promise<Session> {
    const out = await baseSts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${accountId}:role/${options.roleName}`,
        RoleSessionName: 'aws-access-bot-hygiene',
        ExternalId: options.externalId,
        DurationSeconds: options.sessionDurationSeconds ?? 3600,
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken)
      throw new Error(`AssumeRole into ${accountId} returned no credentials`);
    const credentials = {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
    };
    const config: IAMClientConfig = { region: 'us-east-1', endpoint: options.endpoint, credentials };
    const iam = new IAMClient(config);
    options.configureIam?.(iam, accountId);
    const sts = new STSClient({ region: options.region, endpoint: options.endpoint, credentials });
    return { expiresAt: c.Expiration?.getTime() ?? now() + 3600_000, iam, sts };
  }

  async function session(accountId: string): Promise<Session> {
    const cached = sessions.get(accountId);
    if (cached) {
      const s = await cached.catch(() => undefined);
      if (s && s.expiresAt - now() > 5 * 60_000) return s;
    }
    const opening = open(accountId);
    sessions.set(accountId, opening);
    opening.catch(() => sessions.delete(accountId));
    return opening;
  }

  return {
    iam: async (accountId) => (await session(accountId)).iam,
    sts: async (accountId) => (await session(accountId)).sts,
  };
}
