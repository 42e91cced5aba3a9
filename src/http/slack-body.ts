/**
 * The shapes Bolt and our listeners rely on, checked before Bolt sees a body. Bolt dereferences
 * `body.ssl_check`, `body.user.team_id`, `body.view.…` without looking first, and a signed
 * `payload=null` used to be an unhandled rejection that ended the process. Anything that is not
 * one of these shapes gets a 400 here and is never dispatched.
 */
import { parse as parseQueryString } from 'node:querystring';
import { z } from 'zod';

const id = z.string().min(1).max(255);
const team = z.looseObject({ id: z.string().max(255) }).nullish();
const enterprise = z.looseObject({ id: z.string().max(255).optional() }).nullish();
const user = z.looseObject({ id, team_id: z.string().max(255).optional() });
const channel = z.looseObject({ id }).optional();
const container = z.looseObject({ type: z.string().max(64) }).optional();
const view = z.looseObject({
  id: z.string().max(255).optional(),
  callback_id: z.string().max(255).optional(),
  private_metadata: z.string().max(3000).optional(),
  app_installed_team_id: z.string().max(255).optional(),
  state: z
    .looseObject({
      values: z.record(z.string(), z.record(z.string(), z.looseObject({ type: z.string().optional() }))),
    })
    .optional(),
});
const common = { user, team, enterprise, channel, container, trigger_id: z.string().max(255).optional() };

const action = z.looseObject({
  action_id: id,
  block_id: z.string().max(255).optional(),
  type: z.string().max(64).optional(),
  value: z.string().max(2000).optional(),
});

/** Interactivity payloads (form field `payload`): the types Bolt dispatches and we may handle. */
export const interactionPayload = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('block_actions'),
    ...common,
    actions: z.array(action).min(1).max(25),
    view: view.optional(),
    message: z.looseObject({ ts: z.string().max(64).optional() }).optional(),
    response_url: z.string().max(2000).optional(),
  }),
  z.looseObject({
    type: z.enum(['view_submission', 'view_closed']),
    ...common,
    view: view.extend({ id, callback_id: z.string().max(255) }),
    response_urls: z.array(z.looseObject({ response_url: z.string().max(2000) })).optional(),
  }),
  z.looseObject({
    type: z.literal('block_suggestion'),
    ...common,
    action_id: id,
    block_id: z.string().max(255),
    value: z.string().max(2000),
    view: view.optional(),
  }),
  z.looseObject({
    type: z.enum(['shortcut', 'message_action']),
    ...common,
    callback_id: id,
  }),
]);

/** A slash command: every field one string, never repeated. */
export const slashCommand = z.looseObject({
  command: z.string().regex(/^\/[^\s/]{1,80}$/),
  user_id: id,
  team_id: z.string().max(255),
  text: z.string().max(4000).optional(),
  channel_id: z.string().max(255).optional(),
  trigger_id: z.string().max(255).optional(),
  response_url: z.string().max(2000).optional(),
});

/** Events API (JSON bodies). */
export const eventsApiBody = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('url_verification'), challenge: z.string().max(255) }),
  z.looseObject({
    type: z.literal('event_callback'),
    team_id: z.string().max(255).optional(),
    event: z.looseObject({ type: z.string().max(255) }),
    authorizations: z
      .array(z.looseObject({ team_id: z.string().nullish(), enterprise_id: z.string().nullish() }))
      .optional(),
  }),
  z.looseObject({ type: z.literal('app_rate_limited') }),
]);

export type SlackBody =
  | { kind: 'ssl_check' }
  | { kind: 'command' }
  | { kind: 'interaction' }
  | { kind: 'event' }
  | { kind: 'invalid'; status: 400 | 415; reason: string };

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

function invalid(reason: string, status: 400 | 415 = 400): SlackBody {
  return { kind: 'invalid', status, reason };
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/**
 * Classifies a raw body the way Bolt will read it (`querystring.parse` for forms, `JSON.parse`
 * otherwise; Bolt compares the content type exactly), or says why it is refused.
 */
export function classifySlackBody(contentType: string | undefined, raw: Buffer): SlackBody {
  const text = raw.toString('utf8');
  if (contentType === FORM) {
    const form = parseQueryString(text);
    if (Object.values(form).some((v) => Array.isArray(v))) return invalid('a form field is repeated');
    if (form.ssl_check === '1') return { kind: 'ssl_check' };
    if (typeof form.payload === 'string') {
      const json = parseJson(form.payload);
      if (!json.ok) return invalid('payload is not JSON');
      const checked = interactionPayload.safeParse(json.value);
      return checked.success
        ? { kind: 'interaction' }
        : invalid(`payload: ${z.prettifyError(checked.error)}`);
    }
    const checked = slashCommand.safeParse(form);
    return checked.success ? { kind: 'command' } : invalid(`command: ${z.prettifyError(checked.error)}`);
  }
  if (contentType === JSON_TYPE || contentType?.startsWith(`${JSON_TYPE};`)) {
    const json = parseJson(text);
    if (!json.ok) return invalid('body is not JSON');
    const checked = eventsApiBody.safeParse(json.value);
    return checked.success ? { kind: 'event' } : invalid(`event: ${z.prettifyError(checked.error)}`);
  }
  return invalid(`unsupported content type ${JSON.stringify(contentType ?? '')}`, 415);
}
