import { parseArgs } from 'node:util';
import { WebClient } from '@slack/web-api';
import { pino } from 'pino';
import type { AccountClients } from '../aws/account-clients.js';
import { createBrokerSessions } from '../aws/create-aws-services.js';
import { loadConfig, type LoadedConfig } from '../config/load-config.js';
import type { EnforcementAction } from '../domain/hygiene/enforcement.js';
import { FINDING_KINDS, FINDING_LABELS, type Finding } from '../domain/hygiene/types.js';
import type { Clock } from '../domain/ports.js';
import { UsageError } from '../errors.js';
import { hygieneContext } from '../jobs/hygiene-workers.js';
import { sweepAccount } from '../jobs/hygiene-sweep.js';
import { createLogger } from '../logger.js';
import { slackHygieneAdapters } from '../slack/hygiene/adapters.js';
import { createSlackClient } from '../slack/slack-client.js';
import { createRedis, redisTarget } from '../store/redis-connection.js';
import type { CliIo } from './io.js';

export const HYGIENE_HELP = `Usage: aws-access-bot hygiene --account ID [--dry-run] [--config FILE]

Sweeps one account's credentials (one IAM credential report) and prints the findings and what
enforce mode does with unused access keys.

  --dry-run   read only: no Slack messages (e-mail owner lookups only), no stored findings, no key deactivated; prints what
              enforce would do given the warnings already stored in Redis
  (without)   runs the sweep as the daily job does, in the configured hygiene.mode

Options:
  --account ID   12-digit AWS account id
  --dry-run      decide and print only
  --config FILE  config file (default: $AWS_ACCESS_CONFIG or config/aws-access.yaml)
  -h, --help     show this help`;

export interface HygieneCommandOverrides {
  accounts?: AccountClients;
  clock?: Clock;
  loaded?: LoadedConfig;
}

function ownerText(f: Finding): string {
  if (!f.owner) return 'security team';
  return f.owner.kind === 'slack'
    ? `owner ${f.owner.slackUserId} (${f.owner.source})`
    : `no owner (${f.owner.reason})`;
}

function describeAction(a: EnforcementAction): string {
  const f = a.finding;
  const key = `${f.userName} key ${f.key?.slot} (created ${f.key?.createdAt.slice(0, 10)})`;
  switch (a.type) {
    case 'warn':
      return `warn      ${key}: warn ${a.recipient === 'owner' ? ownerText(f) : 'the security channel'}, deactivate after ${a.deactivateAfter.toISOString()}`;
    case 'wait':
      return `wait      ${key}: warned ${a.warnedAt.toISOString()}, deactivate after ${a.deactivateAfter.toISOString()}`;
    case 'deactivate':
      return `deactivate ${key}: warned ${a.warnedAt.toISOString()}, grace period over`;
    case 'skip-unowned':
      return `leave     ${key}: ${ownerText(f)}; reported, not touched (hygiene.enforceUnowned is false)`;
  }
}

export function createHygieneCommand(overrides: HygieneCommandOverrides = {}) {
  return async function hygieneCommand(args: string[], io: CliIo): Promise<number> {
    const { values } = parseArgs({
      args,
      options: {
        account: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
    if (values.help) {
      io.out(HYGIENE_HELP);
      return 0;
    }
    if (!values.account) throw new UsageError('--account is required');
    if (!/^\d{12}$/.test(values.account))
      throw new UsageError(`--account must be a 12-digit account id, not "${values.account}"`);
    const dryRun = values['dry-run'] ?? false;
    const loaded = overrides.loaded ?? (await loadConfig(values.config ?? io.env.configPath));
    const { config } = loaded;
    const accounts =
      overrides.accounts ?? createBrokerSessions({ env: io.env, config, clock: overrides.clock ?? io.clock });
    const connection = createRedis(redisTarget(io.env, config.redis));
    try {
      // Logs go to stderr so the printed findings stay clean on stdout.
      const logger = createLogger({
        level: io.env.logLevel === 'info' ? 'warn' : io.env.logLevel,
        destination: pino.destination(2),
      });
      // A dry run only looks up e-mails in Slack (when a token is set) and never posts. Like the
      // jobs, a rate-limited post fails rather than waits.
      const slack =
        dryRun && !io.env.slackBotToken
          ? new WebClient(undefined, { slackApiUrl: 'http://127.0.0.1:9/', retryConfig: { retries: 0 } })
          : createSlackClient(io.env, 'jobs');
      const ctx = hygieneContext({
        ...slackHygieneAdapters(slack, config, { logger }),
        config,
        logger,
        connection,
        accounts,
        clock: overrides.clock ?? io.clock,
      });
      const result = await sweepAccount(ctx, values.account, { dryRun });
      io.out(
        `Account ${values.account}: ${result.findings.length} findings (mode ${config.hygiene.mode}${dryRun ? ', dry run' : ''})`,
      );
      for (const kind of FINDING_KINDS) {
        const list = result.findings.filter((f) => f.kind === kind);
        if (list.length === 0) continue;
        io.out(`\n${FINDING_LABELS[kind]} (${list.length})`);
        for (const f of list) io.out(`  ${f.userName ?? '(account)'}: ${f.detail} — ${ownerText(f)}`);
      }
      io.out(
        `\nWhat enforce ${dryRun || config.hygiene.mode !== 'enforce' ? 'would do' : 'did'} with unused keys:`,
      );
      if (result.plan.length === 0) io.out('  nothing');
      for (const action of result.plan) io.out(`  ${describeAction(action)}`);
      if (!dryRun && config.hygiene.mode === 'enforce')
        io.out(`\nwarned ${result.warned.length}, deactivated ${result.deactivated.length}`);
      return 0;
    } finally {
      await connection.quit().catch(() => connection.disconnect());
    }
  };
}

export const hygieneCommand = createHygieneCommand();
