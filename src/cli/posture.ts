import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { AccountClients } from '../aws/account-clients.js';
import { createBrokerSessions } from '../aws/create-aws-services.js';
import { loadConfig, type LoadedConfig } from '../config/load-config.js';
import { POSTURE_KINDS, POSTURE_LABELS } from '../domain/posture/kinds.js';
import { reviewAccountPosture } from '../domain/posture/review-account.js';
import type { PostureFinding } from '../domain/posture/types.js';
import type { Clock } from '../domain/ports.js';
import { UsageError } from '../errors.js';
import { postureReviewDeps } from '../jobs/posture-review.js';
import { createLogger } from '../logger.js';
import { RedisRequestStore } from '../store/request-store.js';
import { createRedis, redisTarget } from '../store/redis-connection.js';
import { loadTemplates, templatesDirectory } from '../templates/load-templates.js';
import { partitionOf } from '../templates/policy-variables.js';
import type { CliIo } from './io.js';

export const EXIT_FINDINGS = 3;

export const POSTURE_HELP = `Usage: aws-access-bot posture --account ID [--json] [--config FILE]

Reviews one account's IAM posture (GetAccountAuthorizationDetails, one call per 1,000 entities)
and prints the findings: permissions on users instead of groups, inline policies,
admin-equivalent principals, unused roles and policies, wildcard policies, open trusts, and
/aws-access/ roles that drifted. Read only: nothing is posted, stored or changed.

Exit codes: 0 no findings, 3 findings, 1 invalid config or templates, 2 usage.

The drift check compares /aws-access/ roles with the active requests in Redis; when Redis cannot
be reached it is skipped (said on stderr) rather than reporting every grant role.

Options:
  --account ID   12-digit AWS account id
  --json         print a JSON array of {kind, account, arn, detail, owner}
  --config FILE  config file (default: $AWS_ACCESS_CONFIG or config/aws-access.yaml)
  -h, --help     show this help`;

export interface PostureCommandOverrides {
  accounts?: AccountClients;
  clock?: Clock;
  loaded?: LoadedConfig;
  /** How long to wait for Redis before skipping the drift check (ms). */
  redisTimeoutMs?: number;
}

/** One finding as `--json` prints it; the field names are an interface CI pipelines rely on. */
export function postureJson(f: PostureFinding) {
  return {
    kind: f.kind,
    account: f.accountId,
    arn: f.arn,
    detail: f.detail,
    owner: f.owner?.kind === 'slack' ? f.owner.slackUserId : null,
  };
}

function ownerText(f: PostureFinding): string {
  if (!f.owner) return 'security team';
  return f.owner.kind === 'slack'
    ? `owner ${f.owner.slackUserId} (${f.owner.source})`
    : 'security team (no owner)';
}

export function createPostureCommand(overrides: PostureCommandOverrides = {}) {
  return async function postureCommand(args: string[], io: CliIo): Promise<number> {
    const { values } = parseArgs({
      args,
      options: {
        account: { type: 'string' },
        json: { type: 'boolean', default: false },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
    if (values.help) {
      io.out(POSTURE_HELP);
      return 0;
    }
    if (!values.account) throw new UsageError('--account is required');
    if (!/^\d{12}$/.test(values.account))
      throw new UsageError(`--account must be a 12-digit account id, not "${values.account}"`);
    const loaded = overrides.loaded ?? (await loadConfig(values.config ?? io.env.configPath));
    const { config } = loaded;
    const clock = overrides.clock ?? io.clock;
    const templates = await loadTemplates(templatesDirectory(loaded));
    const accounts = overrides.accounts ?? createBrokerSessions({ env: io.env, config, clock });
    // Logs go to stderr so stdout stays the findings (and valid JSON with --json).
    const logger = createLogger({
      level: io.env.logLevel === 'info' ? 'warn' : io.env.logLevel,
      destination: pino.destination(2),
    });
    const redis = createRedis(redisTarget(io.env, config.redis), 'client', {
      maxRetriesPerRequest: 1,
      lazyConnect: true,
    });
    redis.on('error', () => {});
    try {
      const reachable = await Promise.race([
        redis.connect().then(
          () => true,
          () => false,
        ),
        new Promise<boolean>((resolve) =>
          setTimeout(resolve, overrides.redisTimeoutMs ?? 3000, false).unref(),
        ),
      ]);
      if (!reachable) io.err('warning: Redis unreachable: the access-role-drift check is skipped');
      const store = reachable ? new RedisRequestStore(redis, config.redis.prefix, clock) : undefined;
      const deps = postureReviewDeps({
        config,
        accounts,
        naming: {
          templates,
          partition: partitionOf(io.env.awsRegion),
          region: config.aws.region,
          brokerRoleName: config.aws.brokerRoleName,
        },
        listByState: store ? (state, limit) => store.listByState(state, limit) : undefined,
        log: logger,
        now: new Date(clock.now()),
      });
      const review = await reviewAccountPosture(deps, values.account);
      if (values.json) {
        io.out(JSON.stringify(review.findings.map(postureJson), null, 2));
      } else {
        io.out(
          `Account ${values.account}: ${review.findings.length} posture findings (${review.entityCount} IAM entities read)`,
        );
        for (const kind of POSTURE_KINDS) {
          const list = review.findings.filter((f) => f.kind === kind);
          if (list.length === 0) continue;
          io.out(`\n${POSTURE_LABELS[kind]} (${list.length})`);
          for (const f of list) io.out(`  ${f.detail} — ${ownerText(f)}`);
        }
        if (review.exempted.length > 0) {
          io.out(`\nexempted (${review.exempted.length})`);
          for (const e of review.exempted) io.out(`  ${e.finding.kind} ${e.finding.arn}: ${e.reason}`);
        }
      }
      return review.findings.length > 0 ? EXIT_FINDINGS : 0;
    } finally {
      redis.disconnect();
    }
  };
}

export const postureCommand = createPostureCommand();
