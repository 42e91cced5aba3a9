/**
 * A small Dockerfile reader for tests (no Docker engine here): joins continuation lines, drops
 * comments, resolves global ARG defaults in FROM, and groups instructions by stage.
 */
import { readFileSync } from 'node:fs';

export interface Instruction {
  keyword: string;
  args: string;
}

export interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  globalArgs: Record<string, string>;
  stages: Stage[];
}

function logicalLines(text: string): string[] {
  const lines: string[] = [];
  let current = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (current === '' && /^\s*#/.test(line)) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1).trim()} `;
      continue;
    }
    current += line.trim();
    if (current.trim() !== '') lines.push(current.trim());
    current = '';
  }
  if (current.trim() !== '') lines.push(current.trim());
  return lines;
}

export function parseDockerfile(text: string): Dockerfile {
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of logicalLines(text)) {
    const match = /^(\w+)\s*(.*)$/.exec(line);
    if (!match) continue;
    const keyword = match[1]!.toUpperCase();
    const args = match[2] ?? '';
    if (keyword === 'FROM') {
      const [, image = '', name] = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(args) ?? [];
      const resolved = image.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => globalArgs[a ?? b] ?? '');
      stages.push({ image: resolved, name, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) {
      if (keyword === 'ARG') {
        const [key, value = ''] = args.split('=');
        globalArgs[key!.trim()] = value.trim();
      }
      continue;
    }
    stage.instructions.push({ keyword, args });
  }
  return { globalArgs, stages };
}

export function readDockerfile(path: string): Dockerfile {
  return parseDockerfile(readFileSync(path, 'utf8'));
}

/** ENV and ARG keys set in a stage (`ENV A=1 B=2`, `ENV A 1`, `ARG A=1`). */
export function declaredVariables(stage: Stage): Array<{ keyword: string; key: string; value: string }> {
  const out: Array<{ keyword: string; key: string; value: string }> = [];
  for (const { keyword, args } of stage.instructions) {
    if (keyword !== 'ENV' && keyword !== 'ARG') continue;
    if (!args.includes('=')) {
      const [key = '', ...rest] = args.split(/\s+/);
      out.push({ keyword, key, value: rest.join(' ') });
      continue;
    }
    for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|\S*)/g)) {
      out.push({ keyword, key: m[1]!, value: m[2]!.replace(/^["']|["']$/g, '') });
    }
  }
  return out;
}

/** An exec-form (`["a","b"]`) or shell-form instruction argument as a word list. */
export function words(args: string): string[] {
  const trimmed = args.trim();
  if (trimmed.startsWith('[')) return JSON.parse(trimmed) as string[];
  return trimmed.split(/\s+/);
}
