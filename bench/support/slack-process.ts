/**
 * The Slack side of the `ack` bench in its own Node process: the fake Web API and the
 * response_url collector of slack-load.ts. Served in the load generator's process, their work
 * (three Web API calls and a response_url post per one-line request) ran on the generator's
 * event loop and was counted in the request's ack latency but not in bare Bolt's. Driven over
 * IPC by slack-client.ts.
 */
import type { FakeSlackUser } from '../../test/support/fake-slack.js';
import { startSlack, type ResponseRecord } from './slack-load.js';

export type ToSlackChild =
  | { type: 'start'; users: FakeSlackUser[] }
  | { type: 'replies'; ids: string[]; timeoutMs: number; seq: number }
  | { type: 'stop' };

export type FromSlackChild =
  | { type: 'ready'; apiUrl: string; responseOrigin: string }
  | { type: 'replies'; seq: number; replies: Array<ResponseRecord | null>; calls: Record<string, number> }
  | { type: 'stopped' }
  | { type: 'error'; message: string };

let slack: Awaited<ReturnType<typeof startSlack>> | undefined;

function send(message: FromSlackChild): void {
  process.send?.(message);
}

/** The first reply of each id, waiting (bounded) until every id has one. */
async function replies(ids: string[], timeoutMs: number): Promise<Array<ResponseRecord | null>> {
  const deadline = Date.now() + timeoutMs;
  const first = () => ids.map((id) => slack!.responses.byId.get(id)?.[0] ?? null);
  for (;;) {
    const found = first();
    if (found.every(Boolean) || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, ids.length > 1 ? 20 : 1));
  }
}

process.on('message', (message: ToSlackChild) => {
  const run = async () => {
    switch (message.type) {
      case 'start':
        slack = await startSlack();
        for (const user of message.users) slack.fake.addUser(user);
        send({ type: 'ready', apiUrl: slack.fake.apiUrl, responseOrigin: slack.responses.origin });
        return;
      case 'replies': {
        const found = await replies(message.ids, message.timeoutMs);
        const calls: Record<string, number> = {};
        for (const call of slack!.fake.calls) calls[call.method] = (calls[call.method] ?? 0) + 1;
        send({ type: 'replies', seq: message.seq, replies: found, calls });
        return;
      }
      case 'stop':
        await slack?.responses.stop();
        await slack?.fake.stop();
        send({ type: 'stopped' });
        process.disconnect?.();
        return;
    }
  };
  run().catch((error: unknown) => {
    send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  });
});
process.on('disconnect', () => process.exit(0));
