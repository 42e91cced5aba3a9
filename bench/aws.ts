/**
 * 3. The AWS side on moto through the real AWS SDK over HTTP: grant, extend and revoke latency
 * and IAM calls per operation (createAwsServices with the injectable sleep, so waits for IAM
 * consistency cost nothing here; they are counted instead), and reconcile of an account holding
 * 50 and then 200 `/aws-access/` roles. moto answers locally in a millisecond or two per call
 * and enforces nothing: these numbers are the bot's own cost plus moto, not AWS's latency.
 */
import { systemClock } from '../src/clock.js';
import { randomBytes } from 'node:crypto';
import { CreateRoleCommand, type IAMClient } from '@aws-sdk/client-iam';
import { Redis } from 'ioredis';
import { createAwsServices } from '../src/aws/create-aws-services.js';
import { readEnvOptions } from '../src/config/env.js';
import { createLogger } from '../src/logger.js';
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
import { ms, pool, rate, runBounded, summarize, type Summary } from './support/stats.js';

const ACCOUNT = '222222222222';
const TEMPLATE = 's3-data-reader';
const HOUR = 3_600_000;
const REQUESTER = {
  slackUserId: 'U0REQUESTER',
  principalArn: 'arn:aws:iam::123456789012:user/requester',
  email: 'requester@example.com',
};

interface OpRow {
  op: string;
  concurrency: number;
  n: number;
  errors: number;
  perSecond: number;
  latency: Summary;
  iamCallsPerOp: number;
}

/** Counts every IAM command the client sends. */
function countCommands(iam: IAMClient): { counts: Map<string, number>; total(): number; reset(): void } {
  const counts = new Map<string, number>();
  iam.middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context.commandName ?? 'unknown').replace(/Command$/, '');
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'benchCountIam' },
  );
  return {
    counts,
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    reset: () => counts.clear(),
  };
}

export async function awsBench(): Promise<BenchResult> {
  const started = performance.now();
  const infra = await startInfra({ moto: true });
  const redis = new Redis(infra.redisUrl, { maxRetriesPerRequest: 2 });
  const checks: Check[] = [];
  try {
    const loaded = benchConfig(`bench-aws-${randomBytes(4).toString('hex')}`);
    const sleeps: number[] = [];
    const env = { ...readEnvOptions({}), awsRegion: 'us-east-1', awsEndpointUrl: infra.awsEndpointUrl };
    const services = await createAwsServices({
      clock: systemClock,
      env,
      loaded,
      redis,
      logger: createLogger({ level: 'silent' }),
      sleep: async (pause) => {
        sleeps.push(pause);
      },
    });
    const { grants } = services;
    const rows: OpRow[] = [];
    const grantOne = (requestId: string) => {
      const now = Date.now();
      return grants.grant({
        requestId,
        accountId: ACCOUNT,
        templateName: TEMPLATE,
        requester: REQUESTER,
        startsAt: new Date(now),
        expiresAt: new Date(now + HOUR),
      });
    };
    const timed = async (fn: () => Promise<unknown>) => {
      const t0 = performance.now();
      await fn();
      return performance.now() - t0;
    };

    // Cold: the broker session and the boundary policy are created on the first grant.
    const coldStart = performance.now();
    await grantOne('bench-cold');
    const coldMs = performance.now() - coldStart;
    const iam = await services.accountClients.iam(ACCOUNT);
    const counter = countCommands(iam);

    const measure = async (
      op: string,
      concurrency: number,
      ids: string[],
      fn: (id: string) => Promise<unknown>,
    ) => {
      counter.reset();
      const r = await runBounded({
        total: ids.length,
        concurrency,
        maxMs: 30_000,
        task: (i) => timed(() => fn(ids[i]!)),
      });
      rows.push({
        op,
        concurrency,
        n: r.completed,
        errors: r.errors,
        perSecond: rate(r.completed, r.elapsedMs),
        latency: summarize(r.latencies),
        iamCallsPerOp: counter.total() / Math.max(1, r.completed),
      });
      console.error(
        `  aws ${op} c=${concurrency}: n=${r.completed} p50 ${ms(summarize(r.latencies).p50)} ms errors=${r.errors}${r.firstError ? ` (${r.firstError})` : ''}`,
      );
      return r;
    };
    const seq = Array.from({ length: 40 }, (_, i) => `bench-s${i}`);
    const par = Array.from({ length: 40 }, (_, i) => `bench-p${i}`);
    const sleepsBefore = sleeps.length;
    await measure('grant', 1, seq, grantOne);
    await measure('grant', 8, par, grantOne);
    const grantSleeps = sleeps.length - sleepsBefore;
    await measure('extend', 1, seq, (id) => grants.extend(ACCOUNT, id, new Date(Date.now() + 3 * HOUR)));
    await measure('extend', 8, par, (id) => grants.extend(ACCOUNT, id, new Date(Date.now() + 3 * HOUR)));
    await measure('revoke', 1, seq, async (id) => {
      const r = await grants.revoke(ACCOUNT, id);
      if (!r.removed) throw new Error(`revoke ${id}: nothing removed`);
    });
    await measure('revoke', 8, par, async (id) => {
      const r = await grants.revoke(ACCOUNT, id);
      if (!r.removed) throw new Error(`revoke ${id}: nothing removed`);
    });
    checks.push({
      what: 'every grant, extend and revoke succeeded on moto',
      ok: rows.every((r) => r.errors === 0 && r.n === 40),
      detail: rows.map((r) => `${r.op}@${r.concurrency}: ${r.n} ok, ${r.errors} errors`).join('; '),
    });
    await grants.revoke(ACCOUNT, 'bench-cold');

    // Reconcile: roles made directly (as a grant leaves them: path, name, tags), half of them
    // active in the store's view, the rest orphaned or overdue.
    const reconcileRows: Array<{
      roles: number;
      ms: number;
      calls: Record<string, number>;
      orphaned: number;
      overdue: number;
    }> = [];
    const made: string[] = [];
    const makeRoles = async (count: number) => {
      const ids = Array.from({ length: count }, (_, i) => `rc-${String(made.length + i).padStart(4, '0')}`);
      await pool(ids, 8, async (id, i) => {
        await iam.send(
          new CreateRoleCommand({
            RoleName: `aws-access-${id}`,
            Path: '/aws-access/',
            AssumeRolePolicyDocument: JSON.stringify({
              Version: '2012-10-17',
              Statement: [{ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }],
            }),
            Tags: [
              { Key: 'aws-access:request-id', Value: id },
              {
                Key: 'aws-access:expires-at',
                Value: new Date(Date.now() + (i % 4 === 0 ? -HOUR : HOUR)).toISOString(),
              },
              { Key: 'managed-by', Value: 'aws-access-bot' },
            ],
          }),
        );
      });
      made.push(...ids);
    };
    for (const target of [50, 200]) {
      await makeRoles(target - made.length);
      // Every other role is an active grant; of the rest, the tag says some are past their end.
      const active = new Map(
        made.filter((_, i) => i % 2 === 0).map((id) => [id, new Date(Date.now() + HOUR)]),
      );
      counter.reset();
      const t0 = performance.now();
      const report = await grants.reconcile(ACCOUNT, active);
      const took = performance.now() - t0;
      reconcileRows.push({
        roles: made.length,
        ms: took,
        calls: Object.fromEntries(counter.counts),
        orphaned: report.orphaned.length,
        overdue: report.overdue.length,
      });
      checks.push({
        what: `reconcile of ${made.length} roles finds every role that is not an active grant`,
        ok: report.orphaned.length + report.overdue.length >= made.length / 2 && report.missing.length === 0,
        detail: `${report.orphaned.length} orphaned, ${report.overdue.length} overdue, ${report.missing.length} missing`,
      });
      console.error(`  aws reconcile ${made.length} roles: ${ms(took)} ms, ${counter.total()} IAM calls`);
    }

    return benchResult({
      name: 'aws',
      title: 'Grant, extend, revoke and reconcile on moto',
      started,
      sections: [
        `Cold first grant in the account (broker session, boundary policy created): ${ms(coldMs)} ms. ` +
          `Grants asked to wait for IAM consistency ${grantSleeps} time(s) in ${rows.filter((r) => r.op === 'grant').reduce((a, r) => a + r.n, 0)} grants (the waits are skipped here; on AWS a new role typically needs a few seconds before it can be assumed).`,
        '',
        table(
          ['operation', 'concurrency', 'n', ...latencyHeader, 'ops/s', 'IAM calls/op'],
          rows.map((r) => [
            r.op,
            r.concurrency,
            r.n,
            ...latencyCells(r.latency),
            r.perSecond.toFixed(1),
            r.iamCallsPerOp.toFixed(1),
          ]),
        ),
        '',
        table(
          ['reconcile: roles in /aws-access/', 'time ms', 'IAM calls', 'of which ListRoles / ListRoleTags'],
          reconcileRows.map((r) => [
            r.roles,
            ms(r.ms),
            Object.values(r.calls).reduce((a, b) => a + b, 0),
            `${r.calls.ListRoles ?? 0} / ${r.calls.ListRoleTags ?? 0}`,
          ]),
        ),
      ],
      checks,
      data: { template: TEMPLATE, coldMs, grantSleeps, rows, reconcile: reconcileRows },
    });
  } finally {
    await redis.quit().catch(() => redis.disconnect());
    await infra.stop();
  }
}
