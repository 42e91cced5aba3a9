/**
 * Builds requests exactly as Slack sends them: form-encoded bodies (interactions as
 * `payload=<json>`), signed with v0 HMAC-SHA256 over `v0:<timestamp>:<body>`.
 */
import { createHmac } from 'node:crypto';

export const TEST_SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
/** AWS_ACCESS_HMAC_KEY for tests, the demo and benches (never a production value). */
export const TEST_HMAC_KEY = 'test-hmac-key-0123456789abcdef-0123456789';
export const TEST_TEAM = { id: 'T0TEST', domain: 'test' };

export function sign(body: string, secret: string, timestamp: number): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SlackRequest {
  body: string;
  headers: Record<string, string>;
}

export interface SignOptions {
  secret?: string;
  /** Unix seconds; defaults to now. */
  timestamp?: number;
  /** Overrides the computed signature (for bad-signature tests); null leaves the header out. */
  signature?: string | null;
  /** Events API callbacks are JSON; commands and interactions are form-encoded. */
  contentType?: string;
}

export function signedRequest(body: string, options: SignOptions = {}): SlackRequest {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': String(timestamp),
  };
  const signature =
    options.signature === undefined
      ? sign(body, options.secret ?? TEST_SIGNING_SECRET, timestamp)
      : options.signature;
  if (signature !== null) headers['x-slack-signature'] = signature;
  return { body, headers };
}

export interface SlashCommandInput {
  text: string;
  userId: string;
  userName?: string;
  command?: string;
  channelId?: string;
  responseUrl?: string;
  triggerId?: string;
}

/** Slack gives every command its own trigger_id; the intake job id derives from it. */
let triggerSeq = 0;

export function slashCommandBody(input: SlashCommandInput): string {
  return new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: TEST_TEAM.id,
    team_domain: TEST_TEAM.domain,
    channel_id: input.channelId ?? 'C0GENERAL',
    channel_name: 'general',
    user_id: input.userId,
    user_name: input.userName ?? input.userId.toLowerCase(),
    command: input.command ?? '/aws-access',
    text: input.text,
    api_app_id: 'A0TEST',
    is_enterprise_install: 'false',
    response_url: input.responseUrl ?? 'https://hooks.slack.com/commands/T0TEST/1/abc',
    trigger_id: input.triggerId ?? `${Date.now()}.${++triggerSeq}.abc`,
  }).toString();
}

function payloadBody(payload: Record<string, unknown>): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

function user(userId: string) {
  return { id: userId, username: userId.toLowerCase(), name: userId.toLowerCase(), team_id: TEST_TEAM.id };
}

export interface BlockActionInput {
  userId: string;
  actionId: string;
  value?: string;
  blockId?: string;
  /** The message the button sits on (channel and ts), as for a button in a channel message. */
  message?: { channel: string; ts: string; blocks?: unknown[]; text?: string };
  /** A button inside a view (App Home or modal). */
  view?: Record<string, unknown>;
  responseUrl?: string;
  triggerId?: string;
}

export function blockActionsBody(input: BlockActionInput): string {
  const action = {
    type: 'button',
    action_id: input.actionId,
    block_id: input.blockId ?? 'actions',
    value: input.value,
    action_ts: `${Date.now() / 1000}`,
  };
  const payload: Record<string, unknown> = {
    type: 'block_actions',
    user: user(input.userId),
    api_app_id: 'A0TEST',
    token: 'legacy-verification-token',
    team: TEST_TEAM,
    trigger_id: input.triggerId ?? `${Date.now()}.2.abc`,
    actions: [action],
    is_enterprise_install: false,
  };
  if (input.message) {
    payload.container = {
      type: 'message',
      message_ts: input.message.ts,
      channel_id: input.message.channel,
      is_ephemeral: false,
    };
    payload.channel = { id: input.message.channel, name: 'approvals' };
    payload.message = {
      type: 'message',
      ts: input.message.ts,
      text: input.message.text ?? '',
      blocks: input.message.blocks ?? [],
    };
    payload.response_url = input.responseUrl ?? 'https://hooks.slack.com/actions/T0TEST/1/abc';
  }
  if (input.view) {
    payload.container = { type: 'view', view_id: input.view.id ?? 'V0VIEW' };
    payload.view = { id: 'V0VIEW', hash: 'h1', ...input.view };
  }
  return payloadBody(payload);
}

export interface ViewSubmissionInput {
  userId: string;
  callbackId: string;
  /** state.values as Slack nests it: block_id -> action_id -> value object. */
  values: Record<string, Record<string, Record<string, unknown>>>;
  privateMetadata?: string;
  viewId?: string;
}

export function viewSubmissionBody(input: ViewSubmissionInput): string {
  return payloadBody({
    type: 'view_submission',
    team: TEST_TEAM,
    user: user(input.userId),
    api_app_id: 'A0TEST',
    token: 'legacy-verification-token',
    trigger_id: `${Date.now()}.3.abc`,
    view: {
      id: input.viewId ?? 'V0MODAL',
      type: 'modal',
      callback_id: input.callbackId,
      private_metadata: input.privateMetadata ?? '',
      state: { values: input.values },
      hash: 'h1',
      blocks: [],
    },
    response_urls: [],
    is_enterprise_install: false,
  });
}

export interface BlockSuggestionInput {
  userId: string;
  actionId: string;
  blockId: string;
  value: string;
  viewCallbackId?: string;
}

export function blockSuggestionBody(input: BlockSuggestionInput): string {
  return payloadBody({
    type: 'block_suggestion',
    user: user(input.userId),
    team: TEST_TEAM,
    api_app_id: 'A0TEST',
    token: 'legacy-verification-token',
    action_id: input.actionId,
    block_id: input.blockId,
    value: input.value,
    container: { type: 'view', view_id: 'V0MODAL' },
    view: {
      id: 'V0MODAL',
      type: 'modal',
      callback_id: input.viewCallbackId ?? 'aws-access-request',
      state: { values: {} },
    },
    is_enterprise_install: false,
  });
}

/** POSTs a signed Slack request to the app's /slack/events and returns status and body. */
export async function postToSlackEvents(
  baseUrl: string,
  body: string,
  options: SignOptions = {},
): Promise<{ status: number; text: string; json?: unknown; elapsedMs: number }> {
  const request = signedRequest(body, options);
  const started = performance.now();
  const res = await fetch(`${baseUrl}/slack/events`, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
  const text = await res.text();
  const elapsedMs = performance.now() - started;
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, elapsedMs };
}

/** An `app_home_opened` event (JSON, not form-encoded: post it with contentType application/json). */
export function appHomeOpenedBody(userId: string): string {
  return JSON.stringify({
    token: 'legacy-verification-token',
    team_id: 'T0TEST',
    api_app_id: 'A0TEST',
    type: 'event_callback',
    event_id: `Ev${Date.now()}`,
    event_time: Math.floor(Date.now() / 1000),
    event: {
      type: 'app_home_opened',
      user: userId,
      channel: `D${userId}`,
      tab: 'home',
      event_ts: `${Date.now() / 1000}`,
    },
  });
}
