/**
 * The floor of the `ack` bench: bare Bolt in its own Node process. A Bolt App on the same
 * HTTPReceiver setup as the service (signing secret, `/slack/events`, `processBeforeResponse:
 * false`, the same body limit) served by a plain `node:http` server on loopback, whose
 * `/aws-access` listener does nothing but ack. No Redis, no replay guard, no logging: what any
 * Bolt app costs per slash command on this machine. Driven over IPC by bare-bolt-client.ts with
 * the same messages as service-process.ts.
 *
 * Started with a `redisUrl`, it is the second floor: the same bare Bolt, plus the one Redis round
 * trip the service cannot leave out of any ack, the replay check (`SET key 1 EX 600 NX` on the
 * signature, plain ioredis, one command per request), made before Bolt sees the request.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';
import { Redis } from 'ioredis';
import { SLACK_BODY_LIMIT_BYTES } from '../../src/http/slack-gate.js';
import { TEST_SIGNING_SECRET } from '../../test/support/slack-request.js';
import type { FromChild, ProcessStats, ToChild } from './service-process.js';

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
let cpuBase = process.cpuUsage();
let server: Server | undefined;
let redis: Redis | undefined;

async function start(command: string, redisUrl?: string): Promise<number> {
  const receiver = new HTTPReceiver({
    signingSecret: TEST_SIGNING_SECRET,
    endpoints: '/slack/events',
    processBeforeResponse: false,
    bodyLimit: SLACK_BODY_LIMIT_BYTES,
    logLevel: LogLevel.ERROR,
  });
  const app = new App({
    receiver,
    authorize: async () => ({ botToken: 'xoxb-bench-0000-bot-token' }),
    logLevel: LogLevel.ERROR,
  });
  app.command(command, async ({ ack }) => {
    await ack();
  });
  const replayCheck = redisUrl ? (redis = new Redis(redisUrl)) : undefined;
  server = createServer(
    replayCheck
      ? (req, res) => {
          const key = `bench-floor-replay:${String(req.headers['x-slack-request-timestamp'])}:${String(req.headers['x-slack-signature'])}`;
          replayCheck.set(key, '1', 'EX', 600, 'NX').then(
            () => receiver.requestListener(req, res),
            () => {
              res.writeHead(503);
              res.end();
            },
          );
        }
      : receiver.requestListener,
  );
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  loopDelay.enable();
  cpuBase = process.cpuUsage();
  return (server.address() as AddressInfo).port;
}

function stats(reset: boolean): ProcessStats {
  const cpu = process.cpuUsage(cpuBase);
  const out: ProcessStats = {
    grantCalls: [],
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    rssMiB: process.memoryUsage().rss / 2 ** 20,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    // Not tracked for the floor process (the revoke-scale bench reads them from the service).
    peakHeapUsedMiB: 0,
    peakHeapTotalMiB: 0,
    peakExternalMiB: 0,
    eventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    eventLoopDelayMaxMs: loopDelay.max / 1e6,
    grantsWorkers: 0,
    approvalsWorkers: 0,
  };
  if (reset) {
    loopDelay.reset();
    cpuBase = process.cpuUsage();
  }
  return out;
}

function send(message: FromChild): void {
  process.send?.(message);
}

async function stop(): Promise<void> {
  loopDelay.disable();
  redis?.disconnect();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
}

process.on('message', (message: ToChild | { type: 'start'; command: string; redisUrl?: string }) => {
  const run = async () => {
    switch (message.type) {
      case 'start':
        send({
          type: 'ready',
          port: await start(
            'command' in message ? message.command : '/aws-access',
            'redisUrl' in message ? message.redisUrl : undefined,
          ),
        });
        return;
      case 'stats':
        send({ type: 'stats', stats: stats(Boolean(message.reset)) });
        return;
      case 'stop':
        await stop();
        send({ type: 'stopped' });
        process.disconnect?.();
        return;
    }
  };
  run().catch((error: unknown) => {
    send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  });
});
process.on('disconnect', () => {
  // The parent went away: never linger.
  void stop().finally(() => process.exit(0));
});
