/**
 * The production broker session cache (createBrokerSessions) against moto, with a counter on each
 * IAM client it hands out, so tests and benches can prove how many IAM calls a job makes.
 */
import { systemClock } from '../../src/clock.js';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { AccountClients } from '../../src/aws/account-clients.js';
import { createBrokerSessions } from '../../src/aws/create-aws-services.js';
import type { EnvOptions } from '../../src/config/env.js';
import { parseConfigText } from '../../src/config/load-config.js';

// No per-account pace (aws.concurrency): tests also set accounts up through these clients, with
// hundreds of IAM calls that the production default of 8 calls/s would stretch to minutes.
const MINIMAL_CONFIG = [
  'slack: { channels: { approvals: C0A, audit: C0B, security: C0C } }',
  'aws: { brokerRoleName: aws-access-broker, concurrency: { callsPerSecond: 0, perAccount: 50 } }',
  'approval: { rules: [{ name: any, autoApprove: true }] }',
].join('\n');

export type IamCallHook = (accountId: string, command: string, input: unknown) => void;

export function countingBrokerSessions(endpoint: string, hook: IamCallHook): AccountClients {
  const sessions = createBrokerSessions({
    clock: systemClock,
    env: { awsRegion: 'us-east-1', awsEndpointUrl: endpoint } as EnvOptions,
    config: parseConfigText('counting-broker.yaml', MINIMAL_CONFIG),
  });
  const counted = new WeakSet<IAMClient>();
  return {
    sts: (accountId) => sessions.sts(accountId),
    iam: async (accountId) => {
      const client = await sessions.iam(accountId);
      if (counted.has(client)) return client;
      counted.add(client);
      client.middlewareStack.add(
        (next, context) => async (args) => {
          hook(accountId, context.commandName ?? 'unknown', args.input);
          return next(args);
        },
        { step: 'initialize', name: 'countIamCalls' },
      );
      return client;
    },
  };
}
