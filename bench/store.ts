import type { BenchResult } from './support/report.js';
export async function storeBench(): Promise<BenchResult> { throw new Error('todo'); }
