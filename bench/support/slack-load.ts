/**
 * The Slack side of a bench: the fake Web API (test/support/fake-slack.ts), a small server that
 * records what arrives on each command's response_url (by id, with its arrival time), and signed
 * slash commands and Approve clicks sent to the service's real Bolt HTTP receiver.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFakeSlack, type FakeSlack, type RecordedCall } from '../../test/support/fake-slack.js';
import { blockActionsBody, postToSlackEvents, slashCommandBody } from '../../test/support/slack-request.js';

export const REQUESTER = 'U0REQUESTER';
export const APPROVER1 = 'U0APPROVER1';
export const APPROVER2 = 'U0APPROVER2';

export interface ResponseRecord {
  id: string;
  at: number;
  text: string;
}

/** Records the replies Bolt's respond() sends to each command's response_url. */
export class ResponseCollector {
  readonly byId = new Map<string, ResponseRecord[]>();
  private server?: Server;
  origin = '';

  url(id: string): string {
    return `${this.origin}/response/${encodeURIComponent(id)}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const id = decodeURIComponent((req.url ?? '').replace(/^\/response\//, ''));
        let text: string;
        try {
          text = String((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { text?: string }).text ?? '');
        } catch {
          text = '';
        }
        const list = this.byId.get(id) ?? [];
        list.push({ id, at: Date.now(), text });
        this.byId.set(id, list);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** The people and user groups the test config names, plus any extra approvers. */
export async function startSlack(extraApprovers: { group: string; members: string[] }[] = []) {
  const fake = await startFakeSlack();
  fake.addUser({ id: REQUESTER, email: 'requester@example.com', real_name: 'Rita Requester' });
  for (const id of [APPROVER1, APPROVER2, 'U0PROD1', 'U0PROD2', 'U0PROD3']) fake.addUser({ id });
  fake.setUsergroup('S0PRODAPPR', ['U0PROD1', 'U0PROD2', 'U0PROD3']);
  fake.setUsergroup('S0ADMINS', ['U0ADMIN']);
  for (const { group, members } of extraApprovers) {
    for (const id of members) fake.addUser({ id });
    fake.setUsergroup(group, members);
  }
  const responses = await new ResponseCollector().start();
  return { fake, responses };
}

export async function sendCommand(baseUrl: string, text: string, responseUrl: string, userId = REQUESTER) {
  return postToSlackEvents(baseUrl, slashCommandBody({ text, userId, responseUrl }));
}

export interface ApproverMessage {
  requestId: string;
  channel: string;
  ts: string;
}

function approveButtonValue(call: RecordedCall): string | undefined {
  const blocks = (call.args.blocks ?? []) as Array<{
    elements?: Array<{ action_id?: string; value?: string }>;
  }>;
  if (!Array.isArray(blocks)) return undefined;
  return blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'request_approve')?.value;
}

/** Every approver message posted so far (the ones carrying an Approve button), by request id. */
export function approverMessages(fake: FakeSlack): Map<string, ApproverMessage> {
  const out = new Map<string, ApproverMessage>();
  for (const call of fake.callsTo('chat.postMessage')) {
    const requestId = approveButtonValue(call);
    if (requestId && !out.has(requestId)) {
      out.set(requestId, { requestId, channel: String(call.args.channel), ts: String(call.response?.ts) });
    }
  }
  return out;
}

export async function clickApprove(baseUrl: string, userId: string, message: ApproverMessage) {
  return postToSlackEvents(
    baseUrl,
    blockActionsBody({
      userId,
      actionId: 'request_approve',
      value: message.requestId,
      blockId: 'decision',
      message: { channel: message.channel, ts: message.ts },
    }),
  );
}
