/**
 * The identity-center backend on moto (through test/support/identity-center-gaps.ts for the
 * calls moto lacks): grant and revoke latency, and the bot's part of the window in which a
 * session issued before a revoke still works (revoke start → the set's session deny written and
 * provisioned). Each figure is reported beside its floor measured in the same run: one
 * sso-admin round trip (DescribePermissionSet) through the same proxy and moto. Identity
 * Center's own provisioning time and IAM propagation are not on moto and not in these numbers.
 */
import { randomBytes } from 'node:crypto';
import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { DescribePermissionSetCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { Redis } from 'ioredis';
import { systemClock } from '../src/clock.js';
import { createAwsServices } from '../src/aws/create-aws-services.js';
import { readEnvOptions } from '../src/config/env.js';
import { createLogger } from '../src/logger.js';
import { startIdentityCenterGaps } from '../test/support/identity-center-gaps.js';
import { benchConfig } from './support/config.js';
import { startInfra } from './support/infra.js';
import {
  benchResult,
  latencyCells,
  latencyHeader,
  table,
  type BenchResult,
  type Check,
} from './support/report.js';
import { summarize } from './support/stats.js';

const ACCOUNT = '222222222222';
const INSTANCE = 'arn:aws:sso:::instance/ssoins-1234567890abcdef';
const STORE = 'd-1234567890';
const ROUNDS = 20;
const HOUR = 3_600_000;

export async function identityCenterBench(): Promise<BenchResult> {
  const started = performance.now();
  const infra = await startInfra({ moto: true });
  const gaps = await startIdentityCenterGaps(infra.awsEndpointUrl!);
  const redis = new Redis(infra.redisUrl, { maxRetriesPerRequest: 2 });
  const checks: Check[] = [];
  try {
    const loaded = benchConfig(`bench-idc-${randomBytes(4).toString('hex')}`, (c) => {
      c.aws.grantBackend = 'identity-center';
      c.aws.identityCenter = { instanceArn: INSTANCE, identityStoreId: STORE, region: 'us-east-1' };
    });
    const services = await createAwsServices({
      clock: systemClock,
      env: { ...readEnvOptions({}), awsRegion: 'us-east-1', awsEndpointUrl: gaps.url },
      loaded,
      redis,
      logger: createLogger({ level: 'silent' }),
      sleep: async () => {},
    });
    const ids = new IdentitystoreClient({ region: 'us-east-1', endpoint: infra.awsEndpointUrl });
    const sso = new SSOAdminClient({ region: 'us-east-1', endpoint: gaps.url });
    const user = await ids.send(
      new CreateUserCommand({
        IdentityStoreId: STORE,
        UserName: 'requester@example.com',
        DisplayName: 'Requester',
        Name: { GivenName: 'R', FamilyName: 'Q' },
        Emails: [{ Value: 'requester@example.com', Primary: true }],
      }),
    );
    const grant = (requestId: string) =>
      services.grants.grant({
        requestId,
        accountId: ACCOUNT,
        templateName: 'readonly',
        requester: {
          slackUserId: 'U0REQUESTER',
          principalArn: `arn:aws:identitystore:::user/${user.UserId}`,
          email: 'requester@example.com',
        },
        startsAt: new Date(),
        expiresAt: new Date(Date.now() + HOUR),
      });
    const cold = await grant('idc-cold');
    await services.grants.revoke(ACCOUNT, 'idc-cold');

    const floor: number[] = [];
    const grants: number[] = [];
    const kept: number[] = [];
    const last: number[] = [];
    for (let i = 0; i < ROUNDS; i += 1) {
      let t = performance.now();
      await sso.send(
        new DescribePermissionSetCommand({ InstanceArn: INSTANCE, PermissionSetArn: cold.roleArn }),
      );
      floor.push(performance.now() - t);
      t = performance.now();
      await grant(`idc-${i}-a`);
      grants.push(performance.now() - t);
      await grant(`idc-${i}-b`);
      t = performance.now();
      await services.grants.revoke(ACCOUNT, `idc-${i}-a`);
      kept.push(performance.now() - t);
      t = performance.now();
      await services.grants.revoke(ACCOUNT, `idc-${i}-b`);
      last.push(performance.now() - t);
    }
    const f = summarize(floor);
    const rows = [
      ['one sso-admin call (floor)', floor, f],
      ['grant (warm set)', grants, summarize(grants)],
      ['revoke, another request still holds it', kept, summarize(kept)],
      [
        'revoke of the last holder: assignment deleted, session deny written and provisioned',
        last,
        summarize(last),
      ],
    ] as const;
    const lastSummary = summarize(last);
    checks.push({
      what: 'the last revoke wrote the session deny into the set',
      ok: gaps.calls.includes('PutInlinePolicyToPermissionSet'),
    });
    console.error(
      `  identity-center: last revoke p50 ${lastSummary.p50.toFixed(1)} ms, floor p50 ${f.p50.toFixed(1)} ms`,
    );
    return benchResult({
      name: 'identity-center',
      title: 'Identity Center grant and revoke on moto',
      started,
      sections: [
        `${ROUNDS} rounds, sequential; each p50 beside the p50 of one sso-admin call through the same proxy and moto in this run. ` +
          'The last revoke is the bot’s part of the window in which an earlier session still works; Identity Center’s provisioning and IAM propagation come on top on AWS.',
        '',
        table(
          ['operation', 'n', ...latencyHeader, 'p50 / floor p50'],
          rows.map(([op, values, s]) => [
            op,
            values.length,
            ...latencyCells(s),
            `${(s.p50 / f.p50).toFixed(1)}×`,
          ]),
        ),
      ],
      checks,
      data: { rounds: ROUNDS, floor, grants, kept, last },
    });
  } finally {
    await redis.quit();
    await gaps.stop();
    await infra.stop();
  }
}
