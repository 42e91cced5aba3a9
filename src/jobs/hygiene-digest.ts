/** The weekly `digest` job (see `domain/hygiene/weekly-digest.ts`). */
import type { Digest } from '../domain/hygiene/digest.js';
import { postWeeklyDigest as post } from '../domain/hygiene/weekly-digest.js';
import type { HygieneContext } from './hygiene-context.js';

export function postWeeklyDigest(ctx: HygieneContext): Promise<Digest> {
  return post(ctx);
}
