/**
 * Starts bench/support/bare-bolt-process.ts (bare Bolt, the `ack` bench's floor) as a child
 * process through tsx, like the service; same IPC messages, same handle.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChildProcess, type ServiceHandle } from './service-client.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bare-bolt-process.ts');

/** With `redisUrl`: bare Bolt plus one Redis `SET NX` per request (the replay check's floor). */
export async function startBareBoltProcess(
  command = '/aws-access',
  redisUrl?: string,
): Promise<ServiceHandle> {
  return startChildProcess(CHILD, [], { type: 'start', command, ...(redisUrl ? { redisUrl } : {}) });
}
