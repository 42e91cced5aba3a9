/**
 * Static reading of the Helm chart (no helm binary here): which `.Values` paths the templates
 * use, which named templates they include and define, whether their blocks balance, and a
 * "skeleton" of each file with every template action removed so the static YAML around them can
 * be parsed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoPath } from './paths.js';

export const chartDir = repoPath('helm/aws-access-bot');

export function chartTemplates(): Map<string, string> {
  const dir = join(chartDir, 'templates');
  return new Map(
    readdirSync(dir)
      .filter((f) => /\.(ya?ml|tpl|txt)$/.test(f))
      .map((f) => [f, readFileSync(join(dir, f), 'utf8')]),
  );
}

export function readValues(): Record<string, unknown> {
  return parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Record<string, unknown>;
}

/** Every template action `{{ … }}` with its text (comments included). */
export function actions(text: string): string[] {
  return [...text.matchAll(/\{\{-?\s*([\s\S]*?)\s*-?\}\}/g)].map((m) => m[1]!);
}

/** `.Values.a.b` and `$x.Values.a.b` paths used, as ['a', 'b']. */
export function valuesPaths(text: string): string[][] {
  return [...text.matchAll(/(?:\$\w*)?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)].map((m) =>
    m[1]!.slice(1).split('.'),
  );
}

/** Paths under a role's values (`.values.x`), the dict key the pod template receives. */
export function roleValuesPaths(text: string): string[][] {
  return [...text.matchAll(/(?<![\w$])\.values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)].map((m) =>
    m[1]!.slice(1).split('.'),
  );
}

export function hasPath(values: unknown, path: string[]): boolean {
  let node: unknown = values;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return true;
}

export function includedNames(text: string): string[] {
  return [...text.matchAll(/\binclude\s+"([^"]+)"/g)].map((m) => m[1]!);
}

export function definedNames(text: string): string[] {
  return [...text.matchAll(/\{\{-?\s*define\s+"([^"]+)"/g)].map((m) => m[1]!);
}

/** Opening control actions minus `end` actions; 0 when every block is closed. */
export function blockBalance(text: string): number {
  let depth = 0;
  for (const action of actions(text)) {
    if (action.startsWith('/*')) continue;
    if (/^(if|range|with|define|block)\b/.test(action)) depth++;
    else if (/^end\b/.test(action)) depth--;
    if (depth < 0) return depth;
  }
  return depth;
}

/**
 * The file with template actions removed: a line that is only actions disappears, an inline
 * action becomes the scalar `x`. What remains must still be YAML.
 */
export function skeleton(text: string): string {
  return text
    .replace(/\{\{-?\s*\/\*[\s\S]*?\*\/\s*-?\}\}/g, '')
    .split('\n')
    .filter((line) => line.replace(/\{\{[\s\S]*?\}\}/g, '').trim() !== '' || line.trim() === '')
    .map((line) => line.replace(/\{\{[\s\S]*?\}\}/g, 'x'))
    .join('\n');
}
