/**
 * The clock adapter: the one place the process reads the wall clock (an eslint rule forbids
 * `Date.now()` and `new Date()` elsewhere in src/). `main.ts` and the CLI take this clock and hand
 * it down; tests hand down their own.
 */
import type { Clock } from './domain/ports.js';

export const systemClock: Clock = { now: () => Date.now() };
