import { parseArgs } from 'node:util';
import { createAnchorS3Client, S3AuditAnchors } from '../aws/audit-anchor.js';
import { hmacKeysFrom, type HmacKeys } from '../config/hmac-keys.js';
import { loadConfig } from '../config/load-config.js';
import type { AppConfig } from '../config/schema.js';
import { tryParseDuration } from '../domain/duration.js';
import { AppError, ErrorCode, UsageError } from '../errors.js';
import { RedisAuditLog, type AuditAnchor } from '../store/audit-log.js';
import { createRedis, redisTarget } from '../store/redis-connection.js';
import type { CliIo } from './io.js';

export const AUDIT_HELP = `Usage: aws-access-bot audit verify [--config FILE] [--accept-unkeyed-prefix]
       aws-access-bot audit export --since TIME [--config FILE]

verify   walks the keyed hash chain of the audit log and, with audit.anchor configured,
         checks it against the newest anchor in S3; exit 0 when intact, 1 naming the
         first entry that was altered, removed or reordered (or a missing setting).
export   writes every event at or after TIME (ISO 8601, or a duration ago such as 24h)
         as JSON lines: {"id", "hash", ...event}.

Both need AWS_ACCESS_HMAC_KEY (the key of the chain) and read anchors with the AWS
SDK's default credentials.

Options:
  --config FILE   config file (for redis.prefix; default: $AWS_ACCESS_CONFIG)
  --since TIME    export: where to start
  --accept-unkeyed-prefix
                  verify: accept unkeyed entries from before the upgrade to the keyed chain
                  when no anchor vouches for them yet (once, right after upgrading)
  -h, --help      show this help`;

const EXIT_BROKEN = 1;

function parseSince(text: string, now: number): number {
  // A duration ago (24h, 1h30m); a bare number is not one here (it would read as minutes).
  const ago = /^\d+$/.test(text.trim()) ? undefined : tryParseDuration(text);
  if (ago !== undefined) return now - ago * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw new UsageError(`--since: "${text}" is not a time (use ISO 8601 or e.g. 24h)`);
  return at;
}

export async function auditCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      since: { type: 'string' },
      'accept-unkeyed-prefix': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    io.out(AUDIT_HELP);
    return 0;
  }
  const [action, ...extra] = positionals;
  if (!action || extra.length || (action !== 'verify' && action !== 'export')) {
    throw new UsageError('audit needs "verify" or "export"');
  }
  if (action === 'export' && !values.since) throw new UsageError('audit export needs --since TIME');
  const since = values.since ? parseSince(values.since, io.clock.now()) : 0;
  let keys: HmacKeys;
  try {
    keys = hmacKeysFrom(io.env.hmacKey);
  } catch (error) {
    if (error instanceof AppError && error.code === ErrorCode.MissingSetting) {
      io.err(error.message);
      return EXIT_BROKEN;
    }
    throw error;
  }
  const loaded = await loadConfig(values.config ?? io.env.configPath);
  const redis = createRedis(redisTarget(io.env, loaded.config.redis));
  try {
    const log = new RedisAuditLog(redis, loaded.config.redis.prefix, { chainKey: keys.auditChain });
    if (action === 'verify') {
      return await verify(log, loaded.config, keys, io, values['accept-unkeyed-prefix'] === true);
    }
    for await (const entry of log.since(since)) {
      io.out(JSON.stringify({ id: entry.id, hash: entry.hash, ...entry.event }));
    }
    return 0;
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

async function verify(
  log: RedisAuditLog,
  config: AppConfig,
  keys: HmacKeys,
  io: CliIo,
  acceptUnkeyedPrefix: boolean,
): Promise<number> {
  const settings = config.audit.anchor;
  let anchor: AuditAnchor | undefined;
  let anchorNote: string;
  let findings = 0;
  if (!settings) {
    anchorNote =
      'anchoring is off (no audit.anchor in the config): entries cut from the end or a deleted log cannot be detected';
  } else {
    const anchors = new S3AuditAnchors(
      createAnchorS3Client({ region: io.env.awsRegion, endpoint: io.env.awsEndpointUrl }),
      settings,
      keys.auditChain,
    );
    let latest: Awaited<ReturnType<S3AuditAnchors['latest']>>;
    try {
      latest = await anchors.latest();
    } catch (error) {
      const e = error as Error;
      io.err(`could not read the audit anchors in ${anchors.location}: ${e.name}: ${e.message}`);
      return EXIT_BROKEN;
    }
    for (const bad of latest.invalid) {
      findings += 1;
      io.err(`anchor object ${bad.key} in ${anchors.location} ${bad.problem}`);
    }
    anchor = latest.anchor;
    anchorNote = anchor
      ? `the stream matches the newest anchor: entry ${anchor.lastEntryId} (${anchor.entries} entries) at ${anchor.at}, object ${latest.key ?? ''} in ${anchors.location}`
      : `no anchor in ${anchors.location} yet (the worker writes one every ${settings.interval}s)`;
  }
  const result = await log.verify(anchor);
  const legacy = result.legacy
    ? `; the first ${result.legacy} are unkeyed entries from before the upgrade, vouched for by the keyed entry after them`
    : '';
  if (!result.ok) {
    io.err(
      `audit log broken at entry ${result.entryId}: ${result.problem} (checked ${result.entries} entries)`,
    );
    return EXIT_BROKEN;
  }
  // Unkeyed entries carry no proof of who wrote them: anyone who can write Redis could have
  // replaced the log with them before the bot's next keyed entry linked on. Only an anchor written
  // since, or the operator's explicit word right after an upgrade, vouches for them.
  const vouched = anchor !== undefined && anchor.entries >= (result.legacy ?? 0);
  if (result.legacy && !vouched && !acceptUnkeyedPrefix) {
    io.err(
      `audit log not verified: the first ${result.legacy} of ${result.entries} entries are unkeyed, and no anchor vouches for them (anyone who can write Redis could have written them); right after upgrading to the keyed chain, run once with --accept-unkeyed-prefix, and turn on audit.anchor`,
    );
    return EXIT_BROKEN;
  }
  io.out(`audit log intact: ${result.entries} entries${legacy}`);
  io.out(anchorNote);
  return findings ? EXIT_BROKEN : 0;
}
