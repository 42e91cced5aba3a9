/**
 * 7. The IAM posture review (src/domain/posture/review-account.ts) against moto for accounts of
 * 200 and 1,000 users (a role per four users, ten groups, twenty customer-managed policies):
 * IAM calls, the review's wall time beside its floor measured in the same run (the
 * GetAccountAuthorizationDetails read alone, which the review cannot beat), and the policy
 * simulator's questions. Each figure is the fastest of three runs. moto never pages
 * GetAccountAuthorizationDetails: on IAM the read is one call per 1,000 entities.
 */
import {
  AddUserToGroupCommand,
  AttachGroupPolicyCommand,
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  PutUserPolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { iamPolicySimulator } from '../src/aws/policy-simulator.js';
import { awsPostureReader, readAuthorizationDetails } from '../src/aws/posture-reader.js';
import { reviewAccountPosture } from '../src/domain/posture/review-account.js';
import type { PolicySimulator } from '../src/domain/posture/types.js';
import { countingBrokerSessions } from '../test/support/counting-account-clients.js';
import { startInfra } from './support/infra.js';
import { benchResult, table, type BenchResult, type Check } from './support/report.js';
import { ms } from './support/stats.js';

const POPULATIONS = [
  { accountId: '111111111111', users: 200 },
  { accountId: '222222222222', users: 1000 },
];
const RUNS = 3;
const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });

/** Users: every 10th has a policy attached directly, every 25th an inline one; all in a group. */
async function populate(iam: IAMClient, users: number): Promise<void> {
  const policies: string[] = [];
  for (let i = 0; i < 20; i++) {
    const out = await iam.send(
      new CreatePolicyCommand({
        PolicyName: `team-${i}`,
        PolicyDocument: doc({
          Effect: 'Allow',
          Action: ['s3:GetObject', 's3:ListBucket'],
          Resource: `arn:aws:s3:::team-${i}/*`,
        }),
      }),
    );
    policies.push(out.Policy!.Arn!);
  }
  for (let g = 0; g < 10; g++) {
    await iam.send(new CreateGroupCommand({ GroupName: `group-${g}` }));
    await iam.send(new AttachGroupPolicyCommand({ GroupName: `group-${g}`, PolicyArn: policies[g]! }));
  }
  for (let i = 0; i < users; i++) {
    const name = `user-${i}`;
    await iam.send(new CreateUserCommand({ UserName: name }));
    await iam.send(new AddUserToGroupCommand({ UserName: name, GroupName: `group-${i % 10}` }));
    if (i % 10 === 0)
      await iam.send(new AttachUserPolicyCommand({ UserName: name, PolicyArn: policies[10 + (i % 10)]! }));
    if (i % 25 === 0)
      await iam.send(
        new PutUserPolicyCommand({
          UserName: name,
          PolicyName: 'own',
          PolicyDocument: doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }),
        }),
      );
  }
  for (let r = 0; r < users / 4; r++) {
    await iam.send(
      new CreateRoleCommand({
        RoleName: `role-${r}`,
        AssumeRolePolicyDocument: doc({
          Effect: 'Allow',
          Principal: { Service: 'lambda.amazonaws.com' },
          Action: 'sts:AssumeRole',
        }),
      }),
    );
    await iam.send(new AttachRolePolicyCommand({ RoleName: `role-${r}`, PolicyArn: policies[r % 20]! }));
  }
}

interface Row {
  users: number;
  entities: number;
  iamCalls: number;
  readMs: number;
  reviewMs: number;
  simulations: number;
  findings: Record<string, number>;
}

export async function postureBench(): Promise<BenchResult> {
  const started = performance.now();
  const infra = await startInfra({ moto: true });
  const endpoint = infra.awsEndpointUrl!;
  const checks: Check[] = [];
  const rows: Row[] = [];
  try {
    const calls = new Map<string, number>();
    const accounts = countingBrokerSessions(endpoint, (accountId, command) => {
      if (command === 'GetAccountAuthorizationDetailsCommand')
        calls.set(accountId, (calls.get(accountId) ?? 0) + 1);
    });
    for (const p of POPULATIONS) {
      const t0 = performance.now();
      await populate(await accounts.iam(p.accountId), p.users);
      console.error(`  posture: ${p.users} users populated in ${ms(performance.now() - t0)} ms`);
    }
    const simulator = iamPolicySimulator();
    let simulations = 0;
    const counting: PolicySimulator = {
      allows: (q) => {
        simulations += 1;
        return simulator.allows(q);
      },
    };
    for (const p of POPULATIONS) {
      const iam = await accounts.iam(p.accountId);
      let readMs = Infinity;
      for (let k = 0; k < RUNS; k++) {
        const t0 = performance.now();
        await readAuthorizationDetails(iam, p.accountId);
        readMs = Math.min(readMs, performance.now() - t0);
      }
      let reviewMs = Infinity;
      let review;
      for (let k = 0; k < RUNS; k++) {
        calls.delete(p.accountId);
        simulations = 0;
        const t0 = performance.now();
        review = await reviewAccountPosture(
          {
            reader: awsPostureReader(accounts),
            simulator: counting,
            accessRoles: async () => new Map(),
            slackIdsByEmail: async () => new Map(),
            settings: { unusedRoleDays: 90, trustedAccounts: [], exemptions: [] },
            identityMap: {},
            now: new Date(),
          },
          p.accountId,
        );
        reviewMs = Math.min(reviewMs, performance.now() - t0);
      }
      const findings: Record<string, number> = {};
      for (const f of review!.findings) findings[f.kind] = (findings[f.kind] ?? 0) + 1;
      rows.push({
        users: p.users,
        entities: review!.entityCount,
        iamCalls: calls.get(p.accountId) ?? 0,
        readMs,
        reviewMs,
        simulations,
        findings,
      });
      console.error(`  posture: ${p.users} users: read ${ms(readMs)} ms, review ${ms(reviewMs)} ms`);
    }
    const [small, large] = rows;
    checks.push({
      what: 'IAM calls per review are the same for 200 and 1,000 users (one GetAccountAuthorizationDetails on moto)',
      ok: small!.iamCalls === 1 && large!.iamCalls === 1,
      detail: `${small!.iamCalls} vs ${large!.iamCalls}`,
    });
    for (const r of rows) {
      checks.push({
        what: `${r.users} users: every directly attached and inline user policy is found, nothing else`,
        ok:
          r.findings['user-direct-policy'] === r.users / 10 &&
          r.findings['user-inline-policy'] === r.users / 25 &&
          Object.keys(r.findings).length === 2,
        detail: JSON.stringify(r.findings),
      });
    }
    return benchResult({
      name: 'posture',
      title: 'IAM posture review',
      started,
      sections: [
        table(
          [
            'users',
            'entities',
            'IAM calls',
            'read ms (floor)',
            'review ms',
            'review / floor',
            'simulations',
            'ms per simulation (upper bound)',
          ],
          rows.map((r) => [
            r.users,
            r.entities,
            r.iamCalls,
            ms(r.readMs),
            ms(r.reviewMs),
            (r.reviewMs / r.readMs).toFixed(2),
            r.simulations,
            ((r.reviewMs - r.readMs) / r.simulations).toFixed(3),
          ]),
        ),
      ],
      checks,
      data: rows,
    });
  } finally {
    await infra.stop();
  }
}
