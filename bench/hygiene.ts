import type { BenchResult } from './support/report.js';
export async function hygieneBench(): Promise<BenchResult> { throw new Error('todo'); }
