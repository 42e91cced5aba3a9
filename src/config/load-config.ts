import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type FileIssue } from '../errors.js';
import { configSchema, type AppConfig } from './schema.js';

export interface LoadedConfig {
  file: string;
  /** The directory relative paths in the file (templates.directory) resolve against. */
  baseDir: string;
  config: AppConfig;
}

/** Dotted path in the form people read: `approval.rules[2].approvers`. */
export function formatIssuePath(segments: ReadonlyArray<PropertyKey>): string {
  return segments
    .map((segment, i) =>
      typeof segment === 'number' ? `[${segment}]` : `${i === 0 ? '' : '.'}${String(segment)}`,
    )
    .join('');
}

/** Turns zod issues into file issues, one per field (unknown keys each get their own). */
export function zodIssuesToFileIssues(
  file: string,
  error: z.ZodError,
  prefix: PropertyKey[] = [],
): FileIssue[] {
  const issues: FileIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        issues.push({
          file,
          path: formatIssuePath([...prefix, ...issue.path, key]),
          message: 'unknown field',
        });
      }
      continue;
    }
    issues.push({ file, path: formatIssuePath([...prefix, ...issue.path]), message: issue.message });
  }
  return issues;
}

/** Parses YAML text; syntax errors become file issues with the line number. */
export function parseYaml(
  file: string,
  text: string,
): { value: unknown; issues: FileIssue[]; doc: Document } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const issues: FileIssue[] = doc.errors.map((err) => {
    const pos = lineCounter.linePos(err.pos[0]);
    return { file, path: `line ${pos.line}`, message: err.message.split('\n')[0] ?? err.message };
  });
  const root = doc.contents;
  if (issues.length === 0 && root !== null && !isMap(root) && !isSeq(root)) {
    issues.push({ file, path: '', message: 'must be a YAML mapping' });
  }
  return { value: issues.length ? undefined : doc.toJS(), issues, doc };
}

export function parseConfigText(file: string, text: string): AppConfig {
  const { value, issues } = parseYaml(file, text);
  if (issues.length) throw new ConfigError(issues);
  const result = configSchema.safeParse(value ?? {});
  if (!result.success) throw new ConfigError(zodIssuesToFileIssues(file, result.error));
  return result.data;
}

/** Reads and validates the config file; throws ConfigError naming the file and every bad field. */
export async function loadConfig(file: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message;
    throw new ConfigError([{ file, path: '', message: reason }]);
  }
  return { file, baseDir: path.dirname(path.resolve(file)), config: parseConfigText(file, text) };
}
