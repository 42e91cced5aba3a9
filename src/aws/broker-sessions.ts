/**
 * Broker sessions: the bot acts inside a target account only through that account's broker
 * role. One session per account, cached until 5 minutes before it expires, with one IAM and
 * one STS client per session (IAM in us-east-1). Concurrent callers share one AssumeRole.
 */
import { IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { Clock } from '../domain/ports.js';
import type { Metrics } from '../http/metrics.js';
import type { AccountCallLimits } from './account-call-limits.js';
import type { AccountClients } from './account-clients.js';
import {
  clientConfig,
  countCalls,
  GLOBAL_REGION,
  type AwsCredentials,
  type AwsSettings,
} from './aws-clients.js';
import { toAwsError } from './aws-errors.js';

/** Refresh this long before expiry so no call starts on a session about to lapse. */
export const SESSION_REFRESH_MARGIN_MS = 5 * 60 * 1000;

export interface BrokerSessionOptions {
  settings: AwsSettings;
  partition: string;
  brokerRoleName: string;
  externalId?: string;
  sessionSeconds: number;
  /** The bot's own STS client (default credential chain). */
  baseSts: STSClient;
  clock: Clock;
  metrics?: Metrics;
  /** Per-account pace of IAM calls (`aws.concurrency`), shared with other sessions of the process. */
  limits?: AccountCallLimits;
}

interface BrokerSession {
  expiresAt: number;
  iam: IAMClient;
  sts: STSClient;
}

export class BrokerSessions implements AccountClients {
  private readonly sessions = new Map<string, Promise<BrokerSession>>();

  constructor(private readonly options: BrokerSessionOptions) {}

  brokerRoleArn(accountId: string): string {
    return `arn:${this.options.partition}:iam::${accountId}:role/${this.options.brokerRoleName}`;
  }

  async iam(accountId: string): Promise<IAMClient> {
    return (await this.session(accountId)).iam;
  }

  async sts(accountId: string): Promise<STSClient> {
    return (await this.session(accountId)).sts;
  }

  /** Forget a session, e.g. after the broker role's trust changed. */
  forget(accountId: string): void {
    this.sessions.delete(accountId);
  }

  private async session(accountId: string): Promise<BrokerSession> {
    const cached = this.sessions.get(accountId);
    if (cached) {
      const session = await cached.catch(() => undefined);
      if (session && session.expiresAt - SESSION_REFRESH_MARGIN_MS > this.options.clock.now()) return session;
      if (this.sessions.get(accountId) === cached) this.sessions.delete(accountId);
    }
    let pending = this.sessions.get(accountId);
    if (!pending) {
      pending = this.assume(accountId);
      this.sessions.set(accountId, pending);
      pending.catch(() => {
        if (this.sessions.get(accountId) === pending) this.sessions.delete(accountId);
      });
    }
    return pending;
  }

  private async assume(accountId: string): Promise<BrokerSession> {
    const { settings, metrics } = this.options;
    let result;
    try {
      result = await this.options.baseSts.send(
        new AssumeRoleCommand({
          RoleArn: this.brokerRoleArn(accountId),
          RoleSessionName: 'aws-access-bot',
          DurationSeconds: this.options.sessionSeconds,
          ...(this.options.externalId ? { ExternalId: this.options.externalId } : {}),
        }),
      );
    } catch (error) {
      throw toAwsError(error, `assuming the broker role in account ${accountId}`);
    }
    const c = result.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) {
      throw toAwsError(
        new Error('no credentials returned'),
        `assuming the broker role in account ${accountId}`,
      );
    }
    const credentials: AwsCredentials = {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    };
    const expiresAt =
      c.Expiration?.getTime() ?? this.options.clock.now() + this.options.sessionSeconds * 1000;
    const iam = countCalls(
      new IAMClient(clientConfig(settings, { region: GLOBAL_REGION, credentials })),
      metrics,
    );
    return {
      expiresAt,
      iam: this.options.limits ? this.options.limits.limit(iam, accountId) : iam,
      sts: countCalls(new STSClient(clientConfig(settings, { credentials })), metrics),
    };
  }
}
