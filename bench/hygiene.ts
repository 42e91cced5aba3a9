/**
 * 5. The credential sweep (src/jobs/hygiene-sweep.ts) against moto for accounts of 200 and
 * 1,000 generated IAM users: wall time and IAM calls by command, first sweep (report generated,
 * the Slack directory paged once with users.list) and second sweep (report and directory cached).
 * Users are generated with the rule in test/support/iam-population.ts: every property
 * varies with a different modulus, so the expected findings are known.
 */
import { randomBytes } from 'node:crypto';
import { WebClient } from '@slack/web-api';
import { Redis } from 'ioredis';
import { countingBrokerSessions } from '../test/support/counting-account-clients.js';
import { createIamUsers, DAY_MS, userTruth, wireOwners } from '../test/support/iam-population.js';
import { hygieneContext } from '../src/jobs/hygiene-workers.js';
import { sweepAccount } from '../src/jobs/hygiene-sweep.js';
import { createLogger } from '../src/logger.js';
import { slackHygieneAdapters } from '../src/slack/hygiene/adapters.js';
import { startFakeSlack } from '../test/support/fake-slack.js';
import { benchConfig } from './support/config.js';
import { startInfra } from './support/infra.js';
import { benchResult, table, type BenchResult, type Check } from './support/report.js';
import { ms } from './support/stats.js';

const POPULATIONS = [
  { accountId: '111111111111', users: 200 },
  { accountId: '222222222222', users: 1000 },
];

interface SweepRow {
  accountId: string;
  users: number;
  setupMs: number;
  sweeps: Array<{ ms: number; iamCalls: Record<string, number>; slackCalls: number; findings: number }>;
  expected: { unusedKeys: number; consoleWithoutMfa: number };
  found: { unusedKeys: number; consoleWithoutMfa: number };
}

export async function hygieneBench(): Promise<BenchResult> {
  const started = performance.now();
  const infra = await startInfra({ moto: true });
  const endpoint = infra.awsEndpointUrl!;
  const fake = await startFakeSlack();
  const redis = new Redis(infra.redisUrl, { maxRetriesPerRequest: null });
  const checks: Check[] = [];
  const rows: SweepRow[] = [];
  try {
    const loaded = benchConfig(`bench-hygiene-${randomBytes(4).toString('hex')}`);
    const calls = new Map<string, Map<string, number>>();
    const accounts = countingBrokerSessions(endpoint, (accountId, command) => {
      const byCommand = calls.get(accountId) ?? new Map<string, number>();
      const name = command.replace(/Command$/, '');
      byCommand.set(name, (byCommand.get(name) ?? 0) + 1);
      calls.set(accountId, byCommand);
    });
    const populations = POPULATIONS.map((p) => ({
      ...p,
      truths: Array.from({ length: p.users }, (_, i) => userTruth(i, `u${p.users}`)),
    }));
    const setupMs = new Map<string, number>();
    for (const p of populations) {
      const t0 = performance.now();
      await createIamUsers(await accounts.iam(p.accountId), p.truths, endpoint);
      setupMs.set(p.accountId, performance.now() - t0);
      wireOwners(p.truths, p.accountId, loaded, fake);
      console.error(
        `  hygiene: ${p.users} users created in ${p.accountId} in ${ms(performance.now() - t0)} ms`,
      );
    }
    const createdBy = Date.now();
    const logger = createLogger({ level: 'silent' });
    const slack = new WebClient('xoxb-bench', {
      slackApiUrl: fake.apiUrl,
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 0 },
    });
    const ctx = hygieneContext({
      ...slackHygieneAdapters(slack, loaded.config, { logger }),
      config: loaded.config,
      logger,
      connection: redis,
      accounts,
      clock: { now: () => createdBy + 100 * DAY_MS },
      // moto generates the report at once; the poll's back-off is the test suite's.
      reportOptions: { baseDelayMs: 5, maxDelayMs: 20 },
    });
    for (const p of populations) {
      const sweeps: SweepRow['sweeps'] = [];
      for (let k = 0; k < 2; k++) {
        calls.delete(p.accountId);
        fake.clearCalls();
        const t0 = performance.now();
        const result = await sweepAccount(ctx, p.accountId, { mode: 'report' });
        sweeps.push({
          ms: performance.now() - t0,
          iamCalls: Object.fromEntries(calls.get(p.accountId) ?? []),
          slackCalls: fake.calls.length,
          findings: result.findings.length,
        });
        if (k === 0) {
          const count = (kind: string) => result.findings.filter((f) => f.kind === kind).length;
          rows.push({
            accountId: p.accountId,
            users: p.users,
            setupMs: setupMs.get(p.accountId)!,
            sweeps,
            expected: {
              unusedKeys: p.truths.reduce((a, u) => a + u.keys.filter((key) => key.active).length, 0),
              consoleWithoutMfa: p.truths.filter((u) => u.password && !u.mfa).length,
            },
            found: { unusedKeys: count('unused-key'), consoleWithoutMfa: count('console-without-mfa') },
          });
        }
      }
      console.error(
        `  hygiene: sweep of ${p.users} users: ${sweeps.map((s) => `${ms(s.ms)} ms`).join(', then ')}`,
      );
    }
    const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
    const [small, large] = rows;
    checks.push({
      what: 'IAM calls per sweep are the same for 200 and 1,000 users',
      ok: JSON.stringify(small!.sweeps[0]!.iamCalls) === JSON.stringify(large!.sweeps[0]!.iamCalls),
      detail: `${total(small!.sweeps[0]!.iamCalls)} vs ${total(large!.sweeps[0]!.iamCalls)} calls`,
    });
    for (const r of rows) {
      checks.push({
        what: `${r.users} users: the sweep finds every active unused key and every console user without MFA`,
        ok:
          r.found.unusedKeys === r.expected.unusedKeys &&
          r.found.consoleWithoutMfa === r.expected.consoleWithoutMfa,
        detail: `unused keys ${r.found.unusedKeys}/${r.expected.unusedKeys}, console without MFA ${r.found.consoleWithoutMfa}/${r.expected.consoleWithoutMfa}`,
      });
    }
    const callText = (c: Record<string, number>) =>
      Object.entries(c)
        .sort()
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
    return benchResult({
      name: 'hygiene',
      title: 'Credential hygiene sweep',
      started,
      sections: [
        table(
          ['users', 'sweep', 'time ms', 'IAM calls', 'IAM calls by command', 'Slack API calls', 'findings'],
          rows.flatMap((r) =>
            r.sweeps.map((s, k) => [
              r.users,
              k === 0
                ? 'first (Slack directory read unless already cached)'
                : 'second (report and directory cached)',
              ms(s.ms),
              total(s.iamCalls),
              callText(s.iamCalls),
              s.slackCalls,
              s.findings,
            ]),
          ),
        ),
        '',
        `Setting up the users in moto (not part of the sweep): ${rows.map((r) => `${r.users} users ${ms(r.setupMs / 1000)} s`).join(', ')}.`,
      ],
      checks,
      data: { rows },
    });
  } finally {
    await redis.quit().catch(() => redis.disconnect());
    await fake.stop();
    await infra.stop();
  }
}
