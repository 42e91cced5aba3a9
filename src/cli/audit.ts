import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.js';
import { tryParseDuration } from '../domain/duration.js';
import { UsageError } from '../errors.js';
import { RedisAuditLog } from '../store/audit-log.js';
import { createRedis } from '../store/redis-connection.js';
import type { CliIo } from './io.js';

export const AUDIT_HELP = `Usage: aws-access-bot audit verify [--config FILE]
       aws-access-bot audit export --since TIME [--config FILE]

verify   walks the hash chain of the audit log; exit 0 when intact, 1 naming the first
         entry that was altered, removed or reordered.
export   writes every event at or after TIME (ISO 8601, or a duration ago such as 24h)
         as JSON lines: {"id", "hash", ...event}.

Options:
  --config FILE   config file (for redis.prefix; default: $AWS_ACCESS_CONFIG)
  --since TIME    export: where to start
  -h, --help      show this help`;

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
  const since = values.since ? parseSince(values.since, Date.now()) : 0;
  const loaded = await loadConfig(values.config ?? io.env.configPath);
  const redis = createRedis(io.env.redisUrl);
  try {
    const log = new RedisAuditLog(redis, loaded.config.redis.prefix);
    if (action === 'verify') {
      const result = await log.verify();
      if (result.ok) {
        io.out(`audit log intact: ${result.entries} entries`);
        return 0;
      }
      io.err(
        `audit log broken at entry ${result.entryId}: ${result.problem} (checked ${result.entries} entries)`,
      );
      return 1;
    }
    for await (const entry of log.since(since)) {
      io.out(JSON.stringify({ id: entry.id, hash: entry.hash, ...entry.event }));
    }
    return 0;
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}
