import type { BenchResult } from './support/report.js';
export async function stormBench(): Promise<BenchResult> { throw new Error('todo'); }
