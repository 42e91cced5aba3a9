/**
 * The Lua scripts kept as files next to this module (copied into dist/ by the build), loaded
 * once and registered on a connection as custom commands (EVALSHA with EVAL fallback).
 */
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

function script(name: string): string {
  return readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');
}

const SCRIPTS = {
  createRequest: { file: 'create-request', keys: 4 },
  transitionRequest: { file: 'transition-request', keys: 4 },
  approveRequest: { file: 'approve-request', keys: 2 },
  appendAudit: { file: 'append-audit', keys: 2 },
} as const;

export type ScriptName = keyof typeof SCRIPTS;

const loaded = new Map<ScriptName, string>();

/** Runs a script by name on `redis`, defining it there first if needed. */
export async function runScript(
  redis: Redis,
  name: ScriptName,
  keys: string[],
  args: Array<string | number>,
): Promise<unknown> {
  const spec = SCRIPTS[name];
  const command = `aab_${spec.file.replace(/-/g, '_')}`;
  const target = redis as unknown as Record<string, (...a: Array<string | number>) => Promise<unknown>>;
  if (typeof target[command] !== 'function') {
    let lua = loaded.get(name);
    if (!lua) {
      lua = script(spec.file);
      loaded.set(name, lua);
    }
    redis.defineCommand(command, { numberOfKeys: spec.keys, lua });
  }
  return target[command]!.call(redis, ...keys, ...args);
}
