/**
 * The global middleware that acks what no listener acked: over HTTP it reads the response the
 * gate handed to Bolt and acks only while nothing was sent (no second ack, so no
 * ReceiverMultipleAckError built per request); without a response (Socket Mode) it asks Bolt.
 */
import type { ServerResponse } from 'node:http';
import type { AnyMiddlewareArgs } from '@slack/bolt';
import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { ackWhenNoListenerDid } from '../../../src/slack/slack-app.js';

const logger = createLogger({ level: 'silent' });

function run(context: Record<string, unknown>, listenerAcks: boolean) {
  const ack = vi.fn(async () => {
    if (listenerAcks && ack.mock.calls.length > 1) throw new Error('ReceiverMultipleAckError');
  });
  const response = context.slackHttpResponse as { headersSent: boolean } | undefined;
  const next = vi.fn(async () => {
    if (!listenerAcks) return;
    await ack();
    if (response) response.headersSent = true;
  });
  const args = { ack, next, context } as unknown as AnyMiddlewareArgs & {
    next: () => Promise<void>;
    context: Record<string, unknown>;
  };
  return { ack, done: ackWhenNoListenerDid(logger)(args) };
}

describe('ackWhenNoListenerDid', () => {
  it('does not ack again over HTTP once a listener answered', async () => {
    const response = { headersSent: false } as ServerResponse;
    const { ack, done } = run({ slackHttpResponse: response }, true);
    await done;
    expect(ack).toHaveBeenCalledTimes(1);
  });

  it('acks over HTTP when no listener answered', async () => {
    const response = { headersSent: false } as ServerResponse;
    const { ack, done } = run({ slackHttpResponse: response }, false);
    await done;
    expect(ack).toHaveBeenCalledTimes(1);
  });

  it('without a response (Socket Mode) asks Bolt, and a second ack refused by Bolt is ignored', async () => {
    const { ack, done } = run({}, true);
    await expect(done).resolves.toBeUndefined();
    expect(ack).toHaveBeenCalledTimes(2);
  });
});
