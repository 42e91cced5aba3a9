/** Starts bench/support/slack-process.ts (fake Slack and response_url collector) as a child. */
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FakeSlackUser } from '../../test/support/fake-slack.js';
import type { ResponseRecord } from './slack-load.js';
import type { FromSlackChild, ToSlackChild } from './slack-process.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'slack-process.ts');

export interface SlackHandle {
  apiUrl: string;
  responseUrl(id: string): string;
  /** The first reply on each id's response_url; null for ids with none within `timeoutMs`. */
  replies(ids: string[], timeoutMs: number): Promise<Array<ResponseRecord | null>>;
  /** Web API calls received so far, by method. */
  calls(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export async function startSlackProcess(users: FakeSlackUser[]): Promise<SlackHandle> {
  const child = fork(CHILD, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  let seq = 0;
  const waiting = new Map<number, (m: Extract<FromSlackChild, { type: 'replies' }>) => void>();
  let onReady: ((m: Extract<FromSlackChild, { type: 'ready' }>) => void) | undefined;
  let onStopped: (() => void) | undefined;
  let failed: ((error: Error) => void) | undefined;
  const fail = (error: Error) => {
    failed?.(error);
    for (const [, resolve] of waiting) resolve({ type: 'replies', seq: -1, replies: [], calls: {} });
    waiting.clear();
  };
  child.on('message', (message: FromSlackChild) => {
    if (message.type === 'ready') onReady?.(message);
    else if (message.type === 'stopped') onStopped?.();
    else if (message.type === 'replies') {
      waiting.get(message.seq)?.(message);
      waiting.delete(message.seq);
    } else fail(new Error(`the Slack process failed: ${message.message}`));
  });
  child.once('exit', (code) => fail(new Error(`the Slack process exited (${code})`)));
  const ready = await new Promise<Extract<FromSlackChild, { type: 'ready' }>>((resolve, reject) => {
    onReady = resolve;
    failed = reject;
    child.send({ type: 'start', users } satisfies ToSlackChild);
  });
  failed = undefined;
  const ask = (ids: string[], timeoutMs: number) =>
    new Promise<Extract<FromSlackChild, { type: 'replies' }>>((resolve) => {
      const n = ++seq;
      waiting.set(n, resolve);
      child.send({ type: 'replies', ids, timeoutMs, seq: n } satisfies ToSlackChild);
    });
  return {
    apiUrl: ready.apiUrl,
    responseUrl: (id) => `${ready.responseOrigin}/response/${encodeURIComponent(id)}`,
    replies: async (ids, timeoutMs) => (await ask(ids, timeoutMs)).replies,
    calls: async () => (await ask([], 0)).calls,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      onStopped = () => undefined;
      child.send({ type: 'stop' } satisfies ToSlackChild);
      await exited;
      clearTimeout(timer);
    },
  };
}
