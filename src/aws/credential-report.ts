/**
 * One IAM credential report per account: reuse a report younger than four hours (IAM's own
 * freshness window), otherwise ask IAM to generate one and poll until it is COMPLETE, with a
 * bounded exponential backoff. "Not ready", "expired" and "not present" are normal states of
 * that dance, each logged in words; running out of attempts is a retryable error for the job.
 */
import {
  GenerateCredentialReportCommand,
  GetCredentialReportCommand,
  type GetCredentialReportCommandOutput,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { parse } from 'csv-parse/sync';
import type {
  AccessKeyRecord,
  CredentialReportRow,
  ParsedCredentialReport,
} from '../domain/hygiene/types.js';
import type { Clock } from '../domain/ports.js';
import { AppError, ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';

export const REPORT_FRESHNESS_MS = 4 * 3600_000;
const ROOT_ROW = '<root_account>';

export class CredentialReportUnavailableError extends AppError {
  constructor(
    readonly accountId: string,
    readonly attempts: number,
    readonly lastState: string,
  ) {
    super(
      ErrorCode.AwsRetryable,
      `credential report for account ${accountId} not available after ${attempts} attempts (last state: ${lastState})`,
    );
  }
}

export class CredentialReportMalformedError extends AppError {
  constructor(accountId: string, why: string) {
    super(ErrorCode.AwsFatal, `credential report for account ${accountId} is malformed: ${why}`);
  }
}

export interface CredentialReportOptions {
  logger: Logger;
  clock: Clock;
  /** Generate/Get rounds before giving up (default 10). */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

type ReportState = 'not-present' | 'expired' | 'not-ready';

/** The three "try again" answers of GetCredentialReport, by SDK name or wire code. */
export function reportState(error: unknown): ReportState | undefined {
  const name = (error as { name?: string; Code?: string })?.name ?? '';
  const code = (error as { Code?: string })?.Code ?? '';
  if (name === 'CredentialReportNotPresentException' || code === 'ReportNotPresent') return 'not-present';
  if (name === 'CredentialReportExpiredException' || code === 'ReportExpired') return 'expired';
  if (name === 'CredentialReportNotReadyException' || code === 'ReportInProgress') return 'not-ready';
  return undefined;
}

const STATE_WORDS: Record<ReportState, string> = {
  'not-present': 'no credential report exists yet',
  expired: 'the credential report has expired',
  'not-ready': 'the credential report is still being generated',
};

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function optionalDate(value: string | undefined): Date | undefined {
  if (!value || value === 'N/A' || value === 'no_information' || value === 'not_supported') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function optionalText(value: string | undefined): string | undefined {
  return !value || value === 'N/A' || value === 'not_supported' ? undefined : value;
}

const REQUIRED_COLUMNS = [
  'user',
  'arn',
  'password_enabled',
  'mfa_active',
  'access_key_1_active',
  'access_key_1_last_rotated',
  'access_key_2_active',
  'access_key_2_last_rotated',
];

/** Parses the report CSV into rows; the root row is left out (GetAccountSummary covers root). */
export function parseCredentialReport(accountId: string, csv: string): CredentialReportRow[] {
  let records: Array<Record<string, string>>;
  try {
    records = parse(csv, { columns: true, skip_empty_lines: true, trim: true }) as Array<
      Record<string, string>
    >;
  } catch (error) {
    throw new CredentialReportMalformedError(accountId, (error as Error).message);
  }
  const header = records[0] ? Object.keys(records[0]) : [];
  const missing = records.length > 0 ? REQUIRED_COLUMNS.filter((c) => !header.includes(c)) : [];
  if (missing.length > 0)
    throw new CredentialReportMalformedError(accountId, `missing columns ${missing.join(', ')}`);
  return records
    .filter((r) => r.user !== ROOT_ROW)
    .map((r) => {
      const accessKeys: AccessKeyRecord[] = [];
      for (const slot of [1, 2] as const) {
        const createdAt = optionalDate(r[`access_key_${slot}_last_rotated`]);
        if (!createdAt) continue;
        accessKeys.push({
          slot,
          active: r[`access_key_${slot}_active`] === 'true',
          createdAt,
          lastUsedAt: optionalDate(r[`access_key_${slot}_last_used_date`]),
          lastUsedService: optionalText(r[`access_key_${slot}_last_used_service`]),
        });
      }
      return {
        userName: r.user ?? '',
        arn: r.arn ?? '',
        createdAt: optionalDate(r.user_creation_time),
        passwordEnabled: r.password_enabled === 'true',
        passwordLastUsedAt: optionalDate(r.password_last_used),
        passwordLastChangedAt: optionalDate(r.password_last_changed),
        mfaActive: r.mfa_active === 'true',
        accessKeys,
      };
    });
}

function toParsed(accountId: string, out: GetCredentialReportCommandOutput): ParsedCredentialReport {
  if (!out.Content) throw new CredentialReportMalformedError(accountId, 'empty content');
  const csv = Buffer.from(out.Content).toString('utf8');
  return { generatedAt: out.GeneratedTime ?? new Date(0), rows: parseCredentialReport(accountId, csv) };
}

export async function fetchCredentialReport(
  iam: IAMClient,
  accountId: string,
  options: CredentialReportOptions,
): Promise<ParsedCredentialReport> {
  const { logger } = options;
  const clock = options.clock;
  const maxAttempts = options.maxAttempts ?? 10;
  const base = options.baseDelayMs ?? 1000;
  const cap = options.maxDelayMs ?? 30_000;
  const sleep = options.sleep ?? defaultSleep;
  const log = logger.child({ accountId });

  try {
    const out = await iam.send(new GetCredentialReportCommand({}));
    const age = clock.now() - (out.GeneratedTime?.getTime() ?? 0);
    if (age < REPORT_FRESHNESS_MS) {
      log.info({ generatedAt: out.GeneratedTime }, 'reusing credential report (under 4 hours old)');
      return toParsed(accountId, out);
    }
    log.info(
      { generatedAt: out.GeneratedTime, ageHours: Math.floor(age / 3600_000) },
      'credential report is older than 4 hours; generating a new one',
    );
  } catch (error) {
    const state = reportState(error);
    if (!state) throw error;
    log.info({ state }, `${STATE_WORDS[state]}; generating a new credential report`);
  }

  let lastState = 'unknown';
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const generated = await iam.send(new GenerateCredentialReportCommand({}));
    lastState = generated.State ?? 'unknown';
    if (generated.State === 'COMPLETE') {
      try {
        // Just generated on our request: accept it whatever its timestamp says.
        const report = toParsed(accountId, await iam.send(new GetCredentialReportCommand({})));
        log.info({ attempt, users: report.rows.length }, 'credential report ready');
        return report;
      } catch (error) {
        const state = reportState(error);
        if (!state) throw error;
        lastState = state;
        log.warn({ attempt, maxAttempts, state }, `${STATE_WORDS[state]}; will try again`);
      }
    } else {
      log.info({ attempt, maxAttempts, state: generated.State }, 'credential report generation in progress');
    }
    if (attempt < maxAttempts) {
      const delay = Math.min(cap, base * 2 ** (attempt - 1));
      await sleep(Math.round(delay / 2 + (Math.random() * delay) / 2));
    }
  }
  log.error({ maxAttempts, lastState }, 'credential report not available; giving up for this run');
  throw new CredentialReportUnavailableError(accountId, maxAttempts, lastState);
}
