/**
 * The Lua scripts kept as files next to this module (copied into dist/ by the build), loaded
 * once and registered on a connection as custom commands (EVALSHA with EVAL fallback).
 *
 * Every key a script writes is passed in KEYS (the number varies per call: the caller passes
 * what it has), so Redis Cluster routes the call to the node of their slot; all of them carry
 * the hash tag of `redis.prefix`, which puts them in one slot.
 */
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

function script(name: string): string {
  return readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');
}

const SCRIPTS = {
  createRequest: { file: 'create-request' },
  transitionRequest: { file: 'transition-request' },
  approveRequest: { file: 'approve-request' },
  appendAudit: { file: 'append-audit' },
  holdAssignment: { file: 'hold-assignment' },
  releaseAssignment: { file: 'release-assignment' },
  releaseLock: { file: 'release-lock' },
  hdelIfUnchanged: { file: 'hdel-if-unchanged' },
  claimGroupGrant: { file: 'claim-group-grant' },
  createGroup: { file: 'create-group' },
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
    // No fixed numberOfKeys: each call says how many keys it passes.
    redis.defineCommand(command, { lua });
  }
  return target[command]!.call(redis, keys.length, ...keys, ...args);
}
