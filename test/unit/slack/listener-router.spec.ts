/**
 * The listener router: one Bolt listener per kind however many ids are registered, each request
 * routed to the listeners of its own id only (actions and options by action_id, view submissions
 * by callback_id, commands by name, events by type), failures surfacing as Bolt's would, and
 * anything but a plain id left to Bolt's own matching.
 */
import { MultipleListenerError, type App } from '@slack/bolt';
import { describe, expect, it, vi } from 'vitest';
import { createListenerRouter } from '../../../src/slack/listener-router.js';

type Registered = { kind: string; constraint: unknown; listeners: Array<(args: unknown) => Promise<void>> };

/** Records what is registered on Bolt, and can play a request to the registered listeners. */
function fakeBolt() {
  const registered: Registered[] = [];
  const method =
    (kind: string) =>
    (constraint: unknown, ...listeners: Registered['listeners']) =>
      registered.push({ kind, constraint, listeners });
  const app = {
    action: method('action'),
    view: method('view'),
    options: method('options'),
    command: method('command'),
    event: method('event'),
  } as unknown as App;
  /** What Bolt would do for one kind: run that kind's (catch-all) listener with the args. */
  const play = async (kind: string, args: unknown) => {
    for (const r of registered.filter((x) => x.kind === kind)) await r.listeners.at(-1)!(args);
  };
  return { app, registered, play };
}

describe('createListenerRouter', () => {
  it('registers one Bolt listener per kind, however many ids', () => {
    const bolt = fakeBolt();
    const router = createListenerRouter(bolt.app);
    for (let i = 0; i < 12; i++) router.action(`button-${i}`, vi.fn());
    router.view('form', vi.fn());
    router.view('deny', vi.fn());
    router.command('/aws-access', vi.fn());
    router.options('account', vi.fn());
    router.event('app_home_opened', vi.fn());
    expect(bolt.registered.map((r) => r.kind).sort()).toEqual([
      'action',
      'command',
      'event',
      'options',
      'view',
    ]);
    expect(bolt.registered.every((r) => r.constraint instanceof RegExp)).toBe(true);
  });

  it('routes each request to the listeners of its own id only', async () => {
    const bolt = fakeBolt();
    const router = createListenerRouter(bolt.app);
    const approve = vi.fn();
    const deny = vi.fn();
    const form = vi.fn();
    const command = vi.fn();
    const options = vi.fn();
    const home = vi.fn();
    router.action('approve', approve);
    router.action('deny', deny);
    router.view('request-form', form);
    router.command('/aws-access', command);
    router.options('account', options);
    router.event('app_home_opened', home);

    await bolt.play('action', { payload: { action_id: 'approve' } });
    await bolt.play('action', { payload: { action_id: 'unknown' } });
    await bolt.play('view', { body: { type: 'view_submission', view: { callback_id: 'request-form' } } });
    // A view_closed with the same callback id is not a submission (Bolt's view(id) default).
    await bolt.play('view', { body: { type: 'view_closed', view: { callback_id: 'request-form' } } });
    await bolt.play('command', { command: { command: '/aws-access' } });
    await bolt.play('command', { command: { command: '/other' } });
    await bolt.play('options', { payload: { action_id: 'account' } });
    await bolt.play('event', { event: { type: 'app_home_opened' } });
    await bolt.play('event', { event: { type: 'team_join' } });

    expect(approve).toHaveBeenCalledTimes(1);
    expect(approve).toHaveBeenCalledWith({ payload: { action_id: 'approve' } });
    expect(deny).not.toHaveBeenCalled();
    expect(form).toHaveBeenCalledTimes(1);
    expect(command).toHaveBeenCalledTimes(1);
    expect(options).toHaveBeenCalledTimes(1);
    expect(home).toHaveBeenCalledTimes(1);
  });

  it("runs every listener of an id and surfaces failures as Bolt's would", async () => {
    const bolt = fakeBolt();
    const router = createListenerRouter(bolt.app);
    const other = vi.fn();
    router.action('a', async () => {
      throw new Error('first');
    });
    router.action('a', other);
    await expect(bolt.play('action', { payload: { action_id: 'a' } })).rejects.toThrow('first');
    expect(other).toHaveBeenCalledTimes(1);

    router.action('b', async () => {
      throw new Error('one');
    });
    router.action('b', async () => {
      throw new Error('two');
    });
    await expect(bolt.play('action', { payload: { action_id: 'b' } })).rejects.toBeInstanceOf(
      MultipleListenerError,
    );
  });

  it("leaves a RegExp, a constraint object or a middleware chain to Bolt's own matching", () => {
    const bolt = fakeBolt();
    const router = createListenerRouter(bolt.app);
    const byPattern = /^approve-/;
    const middleware = vi.fn();
    const listener = vi.fn();
    router.action(byPattern, listener);
    router.action({ block_id: 'b', action_id: 'x' }, listener);
    router.view('form', middleware, listener);
    expect(bolt.registered).toEqual([
      { kind: 'action', constraint: byPattern, listeners: [listener] },
      { kind: 'action', constraint: { block_id: 'b', action_id: 'x' }, listeners: [listener] },
      { kind: 'view', constraint: 'form', listeners: [middleware, listener] },
    ]);
  });
});
