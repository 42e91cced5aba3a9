/**
 * The daily sweep of one account: read (one report, constant calls), evaluate, attribute
 * owners, store the findings, tell the security channel about new findings nobody owns, and
 * in `enforce` mode warn, wait out the grace period, then deactivate unused keys.
 */
import type { IAMClient } from '@aws-sdk/client-iam';
import { deactivateAccessKey } from '../aws/hygiene-actions.js';
import { readAccountCredentialState } from '../aws/hygiene-reader.js';
import { planEnforcement, type EnforcementAction } from '../domain/hygiene/enforcement.js';
import { evaluateAccount } from '../domain/hygiene/evaluate.js';
import { emailsToLookUp, resolveOwner, type OwnerInput } from '../domain/hygiene/owners.js';
import type { AccountFindings, Finding, Owner } from '../domain/hygiene/types.js';
import { AppError, ErrorCode } from '../errors.js';
import {
  enforcementWarningMessage,
  keysDeactivatedMessage,
  unownedFindingsMessage,
} from '../slack/hygiene/messages.js';
import { accountNames, thresholds, type HygieneContext } from './hygiene-context.js';
import { resolveSlackIdsByEmail } from './hygiene-slack-directory.js';

export interface SweepOptions {
  /** Defaults to config hygiene.mode. */
  mode?: 'report' | 'enforce';
  /** Read and decide only: no Slack, no Redis writes, no IAM writes. */
  dryRun?: boolean;
}

export interface SweepResult {
  accountId: string;
  findings: Finding[];
  /** What enforce does (or, in a dry run / report mode, would do) with unused keys. */
  plan: EnforcementAction[];
  deactivated: string[];
  warned: string[];
}

function groupByOwner(findings: Finding[]): Map<string, Finding[]> {
  const out = new Map<string, Finding[]>();
  for (const f of findings) {
    const key = f.owner?.kind === 'slack' ? f.owner.slackUserId : '';
    out.set(key, [...(out.get(key) ?? []), f]);
  }
  return out;
}

export async function sweepAccount(
  ctx: HygieneContext,
  accountId: string,
  options: SweepOptions = {},
): Promise<SweepResult> {
  const mode = options.mode ?? ctx.config.hygiene.mode;
  const dryRun = options.dryRun ?? false;
  const now = new Date(ctx.clock.now());
  const log = ctx.logger.child({ job: 'hygiene-sweep', accountId, mode, dryRun });
  const iam = await ctx.accounts.iam(accountId);
  const state = await readAccountCredentialState(iam, accountId, {
    logger: log,
    clock: ctx.clock,
    ...ctx.reportOptions,
  });

  const users: OwnerInput[] = state.report.rows.map((r) => ({
    userName: r.userName,
    userArn: r.arn,
    tags: state.userTags[r.userName] ?? {},
  }));
  const identityMap = ctx.config.identities.map;
  const emails = await resolveSlackIdsByEmail(
    { slack: ctx.slack, store: ctx.store, logger: log, now: () => ctx.clock.now(), sleep: ctx.sleep },
    emailsToLookUp(users, identityMap),
    { dryRun },
  );
  const owners = new Map<string, Owner>(users.map((u) => [u.userName, resolveOwner(u, identityMap, emails)]));
  const findings = evaluateAccount(state, thresholds(ctx.config), now).map((f) =>
    f.userName ? { ...f, owner: owners.get(f.userName) } : f,
  );
  const warnings = await ctx.store.getWarnings(accountId);
  const plan = planEnforcement(findings, warnings, now, ctx.config.hygiene);
  log.info(
    { users: users.length, findings: findings.length, generatedAt: state.report.generatedAt },
    'credential sweep evaluated',
  );
  const result: SweepResult = { accountId, findings, plan, deactivated: [], warned: [] };
  if (dryRun) return result;

  const previous = await ctx.store.getFindings(accountId);
  const record: AccountFindings = {
    accountId,
    sweptAt: now.toISOString(),
    reportGeneratedAt: state.report.generatedAt.toISOString(),
    userCount: users.length,
    findings,
  };
  await ctx.store.saveFindings(record);

  // Findings only the security team can act on, each reported once when it first appears.
  const seen = new Set(previous?.findings.map((f) => f.id));
  const names = accountNames(ctx.config);
  const forSecurity = findings.filter((f) => !seen.has(f.id) && f.owner?.kind !== 'slack');
  if (forSecurity.length > 0) {
    await ctx.slack.chat.postMessage({
      channel: ctx.config.slack.channels.security,
      ...unownedFindingsMessage(accountId, forSecurity, names),
    });
  }

  await ctx.store.pruneWarnings(
    accountId,
    new Set(findings.filter((f) => f.kind === 'unused-key').map((f) => f.id)),
  );
  if (mode === 'enforce') await enforce(ctx, iam, accountId, plan, result);
  return result;
}

async function enforce(
  ctx: HygieneContext,
  iam: IAMClient,
  accountId: string,
  plan: EnforcementAction[],
  result: SweepResult,
): Promise<void> {
  const names = accountNames(ctx.config);
  const now = ctx.clock.now();
  const actor = 'aws-access-bot';

  const warns = plan.filter((a): a is Extract<EnforcementAction, { type: 'warn' }> => a.type === 'warn');
  for (const [owner, findings] of groupByOwner(warns.map((w) => w.finding))) {
    const deactivateAfter = warns[0]!.deactivateAfter;
    await ctx.slack.chat.postMessage({
      channel: owner || ctx.config.slack.channels.security,
      ...enforcementWarningMessage({
        findings,
        accountNames: names,
        deactivateAfter,
        unusedKeyDays: ctx.config.hygiene.unusedKeyDays,
        toSecurity: owner === '',
      }),
    });
    for (const f of findings) {
      // Recorded only after the DM went out: the grace period runs from a warning that was sent.
      if (await ctx.store.recordWarning(accountId, f.id, now)) {
        result.warned.push(f.id);
        await ctx.audit({
          type: 'hygiene.key-warning-sent',
          actor,
          accountId,
          userName: f.userName,
          findingId: f.id,
          detail: `warned ${owner ? `<@${owner}>` : 'the security channel'}: deactivation after ${deactivateAfter.toISOString()}`,
        });
      }
    }
  }

  const failures: string[] = [];
  const deactivated: Finding[] = [];
  for (const action of plan) {
    if (action.type !== 'deactivate' || !action.finding.key || !action.finding.userName) continue;
    const f = action.finding;
    try {
      const outcome = await deactivateAccessKey(iam, f.userName!, f.key!);
      if (outcome.outcome === 'deactivated') {
        deactivated.push(f);
        result.deactivated.push(f.id);
        await ctx.audit({
          type: 'hygiene.key-deactivated',
          actor,
          accountId,
          userName: f.userName,
          findingId: f.id,
          accessKeyIdSuffix: outcome.accessKeyIdSuffix,
          detail: `${f.detail}; warned ${action.warnedAt.toISOString()}`,
        });
      } else {
        await ctx.audit({
          type: 'hygiene.key-deactivation-skipped',
          actor,
          accountId,
          userName: f.userName,
          findingId: f.id,
          detail: outcome.outcome === 'not-found' ? 'key no longer exists' : 'key already inactive',
        });
      }
    } catch (error) {
      failures.push(f.id);
      ctx.logger.error({ err: error, accountId, userName: f.userName }, 'deactivating an unused key failed');
      await ctx.audit({
        type: 'hygiene.key-deactivation-failed',
        actor,
        accountId,
        userName: f.userName,
        findingId: f.id,
        detail: (error as Error).name,
      });
    }
  }
  for (const [owner, findings] of groupByOwner(deactivated)) {
    await ctx.slack.chat.postMessage({
      channel: owner || ctx.config.slack.channels.security,
      ...keysDeactivatedMessage(findings, names),
    });
  }
  if (failures.length > 0)
    throw new AppError(ErrorCode.AwsRetryable, `${failures.length} key deactivations failed in ${accountId}`);
}
