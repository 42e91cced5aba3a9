/** Helpers for e2e tests of the request flow: people, commands, clicks, and waiting on effects. */
import type { AppConfig } from '../../src/config/schema.js';
import type { RequestState } from '../../src/domain/model/state.js';
import type { FakeSlack, RecordedCall } from './fake-slack.js';
import { startTestApp, type TestApp, type TestAppOptions } from './app-harness.js';
import { testConfig } from './services.js';
import { blockActionsBody, slashCommandBody } from './slack-request.js';

export const REQUESTER = 'U0REQUESTER';
export const APPROVER1 = 'U0APPROVER1';
export const APPROVER2 = 'U0APPROVER2';
export const PROD_APPROVERS = ['U0PROD1', 'U0PROD2', 'U0PROD3'];
export const STRANGER = 'U0STRANGER';
export const GUEST = 'U0GUEST';
/** A user group whose members rules may allow break-glass (only the requester is in it). */
export const ONCALL_GROUP = 'S0ONCALL';

/** The people and user groups the test config refers to. */
export function seedPeople(fake: FakeSlack): void {
  fake.addUser({ id: REQUESTER, email: 'requester@example.com', real_name: 'Rita Requester' });
  for (const id of [APPROVER1, APPROVER2, STRANGER, ...PROD_APPROVERS]) fake.addUser({ id });
  fake.addUser({ id: GUEST, is_restricted: true, email: 'guest@example.com' });
  fake.setUsergroup('S0PRODAPPR', PROD_APPROVERS);
  fake.setUsergroup('S0ADMINS', ['U0ADMIN']);
  fake.setUsergroup(ONCALL_GROUP, [REQUESTER]);
}

export async function waitUntil<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function hasButton(call: RecordedCall, actionId: string): boolean {
  return JSON.stringify(call.args.blocks ?? []).includes(`"action_id":"${actionId}"`);
}

export interface ApproverMessage {
  requestId: string;
  channel: string;
  ts: string;
  call: RecordedCall;
}

/** The approver message posted for a request (the one carrying Approve/Deny buttons). */
export async function approverMessage(fake: FakeSlack, index = 0): Promise<ApproverMessage> {
  const call = await waitUntil(
    () => fake.callsTo('chat.postMessage').filter((c) => hasButton(c, 'request_approve'))[index],
    'the approver message',
  );
  const blocks = call.args.blocks as Array<{ elements?: Array<{ action_id?: string; value?: string }> }>;
  const button = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'request_approve');
  return {
    requestId: button!.value!,
    channel: String(call.args.channel),
    ts: String(call.response?.ts),
    call,
  };
}

export async function command(app: TestApp, text: string, userId = REQUESTER) {
  return app.post(slashCommandBody({ text, userId, responseUrl: app.fake.responseUrl(`cmd-${userId}`) }));
}

export async function click(
  app: TestApp,
  userId: string,
  actionId: 'request_approve' | 'request_deny',
  message: ApproverMessage,
) {
  return app.post(
    blockActionsBody({
      userId,
      actionId,
      value: message.requestId,
      blockId: 'decision',
      message: { channel: message.channel, ts: message.ts },
    }),
  );
}

/** The ephemeral answers a user got (chat.postEphemeral) so far. */
export function ephemeralsTo(fake: FakeSlack, userId: string): string[] {
  return fake
    .callsTo('chat.postEphemeral')
    .filter((c) => c.args.user === userId)
    .map((c) => String(c.args.text));
}

export function dmsTo(fake: FakeSlack, userId: string): RecordedCall[] {
  return fake.callsTo('chat.postMessage').filter((c) => c.args.channel === userId);
}

export function updatesOf(fake: FakeSlack, message: ApproverMessage): RecordedCall[] {
  return fake
    .callsTo('chat.update')
    .filter((c) => c.args.ts === message.ts && c.args.channel === message.channel);
}

/** The app on the test config (adjusted by `mutate`), with the config's people in the fake Slack. */
export async function startWithPeople(
  mutate?: (config: AppConfig) => void,
  options: Pick<TestAppOptions, 'role'> = {},
): Promise<TestApp> {
  const app = await startTestApp({ ...options, loaded: testConfig(mutate) });
  seedPeople(app.fake);
  return app;
}

export function stateOf(app: TestApp, requestId: string): Promise<RequestState | undefined> {
  return app.service.requests.get(requestId).then((r) => r?.state);
}
