/**
 * One Bolt listener per kind of request, routing by id inside, instead of one Bolt listener per
 * action id, view, command and event.
 *
 * Bolt runs the middleware chain of every registered listener for every request it receives,
 * and each step of each chain copies the listener arguments into a new object; only the chain's
 * own filter then finds the request is not for it. With the bot's 20-odd listeners that fan-out
 * was the largest single cost of an ack (issue #14 profile of `/aws-access help`: 104 µs of
 * Bolt middleware per request against 18 µs in a one-listener Bolt app, and the garbage it
 * leaves). Here each kind (actions, views, options, commands, events) is one Bolt listener that
 * looks the request's id up in a map, so a request costs Bolt five filters and one listener.
 *
 * The listener modules register exactly as they would on Bolt (`app.action(id, fn)` …) on the
 * `ListenerApp` this returns. Only plain string ids are routed; any other constraint (a RegExp, a
 * constraint object) is handed to Bolt unchanged, with Bolt's own matching. Matching follows
 * Bolt's: an action or options request by `action_id`, a view submission by `callback_id`, a
 * command by its name, an event by its type. Several listeners on one id all run, and their
 * failures surface as Bolt's would (one error as itself, several as a MultipleListenerError).
 */
import { MultipleListenerError, type App } from '@slack/bolt';

/** What the listener modules register on: the listener methods of Bolt's App. */
export type ListenerApp = Pick<App, 'action' | 'view' | 'options' | 'command' | 'event'>;

type Kind = keyof ListenerApp;
type Handler = (args: Record<string, unknown>) => Promise<void> | void;
/** Bolt's listener arguments as the router reads them. */
interface RoutedArgs {
  payload?: { action_id?: string; type?: string; callback_id?: string };
  body?: { type?: string; view?: { callback_id?: string } };
  command?: { command?: string };
  event?: { type?: string };
}

const EVERYTHING = /(?:)/;

/** The id a request of this kind is routed by (undefined: not one this kind routes). */
function routeKey(kind: Kind, args: RoutedArgs): string | undefined {
  switch (kind) {
    case 'action':
    case 'options':
      return args.payload?.action_id;
    case 'view':
      return args.body?.type === 'view_submission' ? args.body.view?.callback_id : undefined;
    case 'command':
      return args.command?.command;
    case 'event':
      return args.event?.type;
  }
}

export function createListenerRouter(app: App): ListenerApp {
  const routes = new Map<Kind, Map<string, Handler[]>>();

  const dispatch = (kind: Kind, table: Map<string, Handler[]>) => async (args: Record<string, unknown>) => {
    const key = routeKey(kind, args as RoutedArgs);
    const handlers = key === undefined ? undefined : table.get(key);
    if (!handlers) return;
    if (handlers.length === 1) {
      await handlers[0]!(args);
      return;
    }
    const settled = await Promise.allSettled(handlers.map(async (handler) => handler(args)));
    const errors = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as Error] : []));
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new MultipleListenerError(errors);
  };

  const route =
    (kind: Kind) =>
    (constraint: unknown, ...listeners: unknown[]): void => {
      const handler = listeners.at(-1) as Handler | undefined;
      if (typeof constraint !== 'string' || listeners.length !== 1 || typeof handler !== 'function') {
        // Not a plain id with one listener: Bolt's own matching, unchanged.
        (app[kind] as (...a: unknown[]) => void).call(app, constraint, ...listeners);
        return;
      }
      let table = routes.get(kind);
      if (!table) {
        table = new Map();
        routes.set(kind, table);
        (app[kind] as (...a: unknown[]) => void).call(app, EVERYTHING, dispatch(kind, table));
      }
      table.set(constraint, [...(table.get(constraint) ?? []), handler]);
    };

  return {
    action: route('action'),
    view: route('view'),
    options: route('options'),
    command: route('command'),
    event: route('event'),
  } as unknown as ListenerApp;
}
