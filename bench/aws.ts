import type { BenchResult } from './support/report.js';
export async function awsBench(): Promise<BenchResult> { throw new Error('todo'); }
