import type { BenchResult } from './support/report.js';
export async function revokeBench(): Promise<BenchResult> { throw new Error('todo'); }
