/** The `sweep-account` job: the domain's sweep of one account (see `domain/hygiene/sweep-account.ts`). */
import {
  sweepAccount as sweep,
  type SweepOptions,
  type SweepResult,
} from '../domain/hygiene/sweep-account.js';
import type { HygieneContext } from './hygiene-context.js';

export type { SweepOptions, SweepResult };

export function sweepAccount(
  ctx: HygieneContext,
  accountId: string,
  options: SweepOptions = {},
): Promise<SweepResult> {
  return sweep(ctx, accountId, options);
}
