/**
 * The end-of-run invariants, read straight from the sources of truth: moto's IAM (listed
 * directly, not through the fault proxy), the request hashes in Redis, the audit stream, and
 * `aws-access-bot audit verify` run as the CLI.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IAMClient, ListRolesCommand, ListRoleTagsCommand, type Role } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { Redis } from 'ioredis';
import { hmacKeysFrom } from '../../src/config/hmac-keys.js';
import type { AuditEvent } from '../../src/domain/audit-event.js';
import { FINAL_STATES } from '../../src/domain/model/state.js';
import { RedisAuditLog } from '../../src/store/audit-log.js';
import { TEST_HMAC_KEY } from '../../test/support/slack-request.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface StoredRequest {
  id: string;
  state: string;
  reason: string;
  accountId: string;
  expiresAt?: number;
  requesterId: string;
}

export interface MotoRole {
  accountId: string;
  roleName: string;
  path: string;
  requestId?: string;
}

/** Every request hash under `<prefix>:request:<id>`. */
export async function storedRequests(redis: Redis, prefix: string): Promise<StoredRequest[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:request:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch.filter((k) => /^[^]*:request:[^:]+$/.test(k)));
  } while (cursor !== '0');
  const out: StoredRequest[] = [];
  for (const key of keys) {
    const h = await redis.hgetall(key);
    if (!h.state) continue;
    out.push({
      id: key.slice(`${prefix}:request:`.length),
      state: h.state,
      reason: h.reason ?? '',
      accountId: h.accountId ?? '',
      expiresAt: h.expiresAt ? Number(h.expiresAt) : undefined,
      requesterId: h.requesterId ?? '',
    });
  }
  return out;
}

export async function auditEvents(redis: Redis, prefix: string): Promise<AuditEvent[]> {
  const log = new RedisAuditLog(redis, prefix, { chainKey: hmacKeysFrom(TEST_HMAC_KEY).auditChain });
  const out: AuditEvent[] = [];
  for await (const entry of log.since(0)) out.push(entry.event);
  return out;
}

/** `/aws-access/` roles in `accountId`, asked of moto itself (credentials of that account). */
export async function motoRoles(motoUrl: string, accountId: string): Promise<MotoRole[]> {
  const base = {
    region: 'us-east-1',
    endpoint: motoUrl,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
  const sts = new STSClient(base);
  const assumed = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${accountId}:role/chaos-checker`,
      RoleSessionName: 'chaos-checker',
    }),
  );
  const c = assumed.Credentials!;
  const iam = new IAMClient({
    ...base,
    credentials: {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken,
    },
  });
  const roles: Role[] = [];
  let marker: string | undefined;
  do {
    const page = await iam.send(new ListRolesCommand({ PathPrefix: '/aws-access/', Marker: marker }));
    roles.push(...(page.Roles ?? []));
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  const out: MotoRole[] = [];
  for (const role of roles) {
    const tags = await iam.send(new ListRoleTagsCommand({ RoleName: role.RoleName! })).catch(() => undefined);
    out.push({
      accountId,
      roleName: role.RoleName!,
      path: role.Path ?? '',
      requestId: tags?.Tags?.find((t) => t.Key === 'aws-access:request-id')?.Value,
    });
  }
  sts.destroy();
  iam.destroy();
  return out;
}

export function auditVerify(env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src/cli.ts'), 'audit', 'verify'],
      { env, cwd: ROOT, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, output: `${stdout}${stderr}`.trim() });
      },
    );
  });
}

export interface SentCommand {
  tag: string;
  requester: string;
  durationSeconds: number;
  sentAt: number;
  status?: number;
  error?: string;
  /** What the user was told on the response_url, if anything. */
  replies: string[];
}

export interface Invariants {
  commandsSent: number;
  /** Commands the service did not take (HTTP error during a Redis outage, or told "not created"). */
  refusedAtDoor: number;
  requests: number;
  states: Record<string, number>;
  granted: number;
  missedRevocations: string[];
  orphanedRoles: string[];
  doubleGrants: string[];
  lostRequests: string[];
  auditVerify: { code: number; output: string };
  rolesLeft: number;
  /** Commands whose reply said nothing was created although the request exists. */
  misleadingReplies: string[];
  /** Grants that failed and could not remove their role (approved → revoke-failed). */
  rollbackFailed: number;
  /** Failed grants whose role reconcile had to remove later (the grant's own rollback missed it). */
  failedGrantRolesLeft: string[];
  /** Grants revoked before their end by more than the clock skew allows (reported, not a miss). */
  revokedEarly: string[];
}

const FINAL = new Set<string>(FINAL_STATES);

export function evaluate(input: {
  sent: SentCommand[];
  requests: StoredRequest[];
  events: AuditEvent[];
  roles: MotoRole[];
  verify: { code: number; output: string };
  reasonPrefix: string;
  maxSkewMs: number;
}): Invariants {
  const { sent, requests, events, roles } = input;
  const byReason = new Map<string, StoredRequest[]>();
  for (const r of requests) {
    const list = byReason.get(r.reason) ?? [];
    list.push(r);
    byReason.set(r.reason, list);
  }
  const eventsBy = new Map<string, AuditEvent[]>();
  for (const e of events) {
    if (!e.requestId) continue;
    const list = eventsBy.get(e.requestId) ?? [];
    list.push(e);
    eventsBy.set(e.requestId, list);
  }
  const grantEvents = (id: string) =>
    (eventsBy.get(id) ?? []).filter(
      (e) => e.action === 'grant' && e.outcome === 'ok' && e.stateAfter === 'active',
    );
  const states: Record<string, number> = {};
  for (const r of requests) states[r.state] = (states[r.state] ?? 0) + 1;

  const lost: string[] = [];
  const misleading: string[] = [];
  let refused = 0;
  for (const cmd of sent) {
    const reason = `${input.reasonPrefix}${cmd.tag}`;
    const found = byReason.get(reason) ?? [];
    if (found.length > 1)
      lost.push(
        `${cmd.tag}: ${found.length} requests for one command (${found.map((r) => r.id).join(', ')})`,
      );
    if (found.length) {
      if (cmd.replies.some((t) => /nothing was changed|not created/i.test(t))) {
        misleading.push(
          `${cmd.tag}: told ${JSON.stringify(cmd.replies[0])} but ${found[0]!.id} exists (${found[0]!.state})`,
        );
      }
      continue;
    }
    const toldNo = cmd.replies.some((t) => /not created|could not|try again|went wrong|error/i.test(t));
    if ((cmd.status !== undefined && cmd.status !== 200) || cmd.error || toldNo) {
      refused += 1;
      continue;
    }
    lost.push(
      `${cmd.tag}: acked (HTTP ${cmd.status}) but no request in Redis; replies: ${JSON.stringify(cmd.replies)}`,
    );
  }
  for (const r of requests) {
    const evs = eventsBy.get(r.id) ?? [];
    if (!FINAL.has(r.state)) {
      lost.push(`${r.id}: still ${r.state}`);
      continue;
    }
    if (!evs.some((e) => e.action === 'request' && e.outcome === 'ok'))
      lost.push(`${r.id}: no "request" audit event`);
    // A failed grant's event has outcome `failed`; what matters is that the final state is audited.
    if (!evs.some((e) => e.outcome !== 'refused' && e.stateAfter === r.state)) {
      lost.push(`${r.id}: no audit event for its final state ${r.state}`);
    }
  }

  const byId = new Map(requests.map((r) => [r.id, r]));
  const missed: string[] = [];
  const orphans: string[] = [];
  const rolesPerRequest = new Map<string, number>();
  for (const role of roles) {
    const id = role.requestId ?? role.roleName.replace(/^aws-access-/, '');
    rolesPerRequest.set(id, (rolesPerRequest.get(id) ?? 0) + 1);
    const request = byId.get(id);
    const where = `${role.accountId}:${role.path}${role.roleName}`;
    if (!request) {
      orphans.push(`${where} (no request)`);
      continue;
    }
    const stillValid = request.state === 'active' && (request.expiresAt ?? 0) > Date.now();
    if (stillValid) continue;
    if (grantEvents(id).length)
      missed.push(
        `${where} (request ${request.state}, ended ${request.expiresAt ? new Date(request.expiresAt).toISOString() : '?'})`,
      );
    else orphans.push(`${where} (request ${request.state}, never granted)`);
  }
  const doubles: string[] = [];
  for (const r of requests) {
    const g = grantEvents(r.id).length;
    const n = rolesPerRequest.get(r.id) ?? 0;
    if (g > 1 || n > 1) doubles.push(`${r.id}: ${g} grant events, ${n} roles`);
  }
  const early: string[] = [];
  for (const r of requests) {
    // Only grants that stood: a failed grant whose role reconcile removed has no access to cut.
    if (r.state !== 'revoked' || r.expiresAt === undefined || !grantEvents(r.id).length) continue;
    const revokedEvent = (eventsBy.get(r.id) ?? []).find(
      (e) => e.stateAfter === 'revoked' && e.outcome === 'ok',
    );
    if (!revokedEvent) continue;
    const at = Date.parse(revokedEvent.at);
    if (at < r.expiresAt - input.maxSkewMs - 1000)
      early.push(
        `${r.id}: ${Math.round((r.expiresAt - at) / 1000)} s early (${revokedEvent.actor}, ${revokedEvent.reason ?? ''})`,
      );
  }
  const failedLeft = requests
    .filter((r) => r.state === 'failed')
    .filter((r) =>
      (eventsBy.get(r.id) ?? []).some((e) => e.action === 'reconcile-revoke' && e.outcome === 'ok'),
    )
    .map((r) => r.id);
  const rollbackFailed = requests.filter((r) =>
    (eventsBy.get(r.id) ?? []).some((e) => e.action === 'grant' && e.stateAfter === 'revoke-failed'),
  ).length;
  return {
    misleadingReplies: misleading,
    rollbackFailed,
    failedGrantRolesLeft: failedLeft,
    commandsSent: sent.length,
    refusedAtDoor: refused,
    requests: requests.length,
    states,
    granted: requests.filter((r) => grantEvents(r.id).length > 0).length,
    missedRevocations: missed,
    orphanedRoles: orphans,
    doubleGrants: doubles,
    lostRequests: lost,
    auditVerify: input.verify,
    rolesLeft: roles.length,
    revokedEarly: early,
  };
}
