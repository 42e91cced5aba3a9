/**
 * What a bench hands back, and how it is written: JSON in bench/results/<name>.json and a
 * generated section of docs/benchmarks.md between `<!-- bench:<name>:start -->` and
 * `<!-- bench:<name>:end -->` markers (the prose around the markers is written by hand).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ms, type Summary } from './stats.js';

export interface Check {
  what: string;
  ok: boolean;
  /** Could not be measured on this build (a feature not there yet): reported, not a failure. */
  skipped?: boolean;
  detail?: string;
}

export interface BenchResult {
  name: string;
  title: string;
  elapsedMs: number;
  /** Markdown: tables and a line or two; no headings above level 4. */
  markdown: string;
  checks: Check[];
  data: unknown;
}

export function table(header: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.map(String).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export const latencyHeader = ['p50 ms', 'p95 ms', 'p99 ms', 'max ms'];
export const latencyCells = (s: Summary): string[] => [ms(s.p50), ms(s.p95), ms(s.p99), ms(s.max)];

export function checksMarkdown(checks: Check[]): string {
  if (!checks.length) return '';
  return checks
    .map(
      (c) =>
        `- ${c.skipped ? 'NOT MEASURED' : c.ok ? 'PASS' : '**FAIL**'}: ${c.what}${c.detail ? ` (${c.detail})` : ''}`,
    )
    .join('\n');
}

/**
 * A bench's result: its markdown is `sections`, a blank line and the check list; the elapsed
 * time runs from `started` (a `performance.now()` reading) to this call.
 */
export function benchResult(result: {
  name: string;
  title: string;
  started: number;
  sections: string[];
  checks: Check[];
  data: unknown;
}): BenchResult {
  const { started, sections, ...rest } = result;
  return {
    ...rest,
    elapsedMs: performance.now() - started,
    markdown: [...sections, '', checksMarkdown(result.checks)].join('\n'),
  };
}

/** Replaces (or appends) the marked section `name` of a markdown file. */
export function replaceSection(file: string, name: string, body: string): void {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${start}\n${body.trim()}\n${end}`;
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  const next =
    from >= 0 && to > from
      ? text.slice(0, from) + block + text.slice(to + end.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
}

export function writeJson(dir: string, name: string, value: unknown): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  return file;
}
