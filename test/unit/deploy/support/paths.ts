import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root, from this file's location (test/unit/deploy/support). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

export function repoPath(...parts: string[]): string {
  return resolve(repoRoot, ...parts);
}
