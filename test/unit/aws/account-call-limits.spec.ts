/**
 * `aws.concurrency` per account: the real IAM client over HTTP to a small local server that
 * counts what reaches it (in flight, start times) and can answer `Throttling`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetAccountSummaryCommand, IAMClient } from '@aws-sdk/client-iam';
import { afterEach, describe, expect, it } from 'vitest';
import { AccountCallLimits, CallLimiter } from '../../../src/aws/account-call-limits.js';
import { clientConfig, countCalls } from '../../../src/aws/aws-clients.js';
import { createMetrics } from '../../../src/http/metrics.js';

const SUMMARY =
  '<GetAccountSummaryResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetAccountSummaryResult><SummaryMap><entry><key>Users</key><value>1</value></entry></SummaryMap></GetAccountSummaryResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetAccountSummaryResponse>';
const THROTTLED =
  '<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>';

interface FakeIam {
  url: string;
  inFlight: number;
  maxInFlight: number;
  starts: number[];
  /** Answer `Throttling` to this many requests first. */
  throttleFirst: number;
  server: Server;
}

async function fakeIam(latencyMs: number): Promise<FakeIam> {
  const state = { inFlight: 0, maxInFlight: 0, starts: [] as number[], throttleFirst: 0 } as FakeIam;
  state.server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      state.starts.push(performance.now());
      state.inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      setTimeout(() => {
        state.inFlight--;
        const throttle = state.throttleFirst > 0;
        if (throttle) state.throttleFirst--;
        res.writeHead(throttle ? 400 : 200, { 'content-type': 'text/xml' });
        res.end(throttle ? THROTTLED : SUMMARY);
      }, latencyMs);
    });
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}`;
  return state;
}

function iamClient(endpoint: string): IAMClient {
  return new IAMClient(
    clientConfig(
      { region: 'us-east-1', endpoint, maxAttempts: 3 },
      { credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'test' } },
    ),
  );
}

describe('per-account IAM call limits (aws.concurrency)', () => {
  let server: FakeIam | undefined;
  afterEach(async () => {
    const running = server?.server;
    server = undefined;
    if (!running) return;
    running.closeAllConnections();
    await new Promise((resolve) => running.close(resolve));
  });

  it('keeps at most `perAccount` calls of one account in flight', async () => {
    server = await fakeIam(30);
    const limits = new AccountCallLimits({ perAccount: 2, callsPerSecond: 0 });
    const iam = limits.limit(iamClient(server.url), '111111111111');
    await Promise.all(Array.from({ length: 10 }, () => iam.send(new GetAccountSummaryCommand({}))));
    expect(server.starts).toHaveLength(10);
    expect(server.maxInFlight).toBe(2);
  });

  it('gives every account its own limit, shared by every client acting in it', async () => {
    server = await fakeIam(30);
    const limits = new AccountCallLimits({ perAccount: 1, callsPerSecond: 0 });
    const a1 = limits.limit(iamClient(server.url), '111111111111');
    const a2 = limits.limit(iamClient(server.url), '111111111111');
    const b = limits.limit(iamClient(server.url), '222222222222');
    const send = (c: IAMClient) => c.send(new GetAccountSummaryCommand({}));
    await Promise.all([send(a1), send(a2), send(a1), send(a2), send(b), send(b)]);
    // One account at a time from a1 and a2 together, plus one of b beside it.
    expect(server.maxInFlight).toBe(2);
    expect(limits.forAccount('111111111111').maxActive).toBe(1);
  });

  it('starts at most `callsPerSecond` calls a second in one account, evenly spaced', async () => {
    const limiter = new CallLimiter(10, 50);
    const starts: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, () => limiter.run(async () => void starts.push(performance.now()))),
    );
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    // Timers may fire a millisecond early or late, never a whole interval.
    for (const gap of gaps) expect(gap).toBeGreaterThan(45);
  });

  it('paces the IAM client: six calls at 20 per second take a quarter of a second or more', async () => {
    server = await fakeIam(1);
    const limits = new AccountCallLimits({ perAccount: 10, callsPerSecond: 20 });
    const iam = limits.limit(iamClient(server.url), '111111111111');
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 6 }, () => iam.send(new GetAccountSummaryCommand({}))));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(245);
    expect(server.starts).toHaveLength(6);
  });

  it('retries a throttled call with backoff through the same limit, and counts the retry', async () => {
    server = await fakeIam(1);
    server.throttleFirst = 1;
    const metrics = createMetrics();
    const limits = new AccountCallLimits({ perAccount: 1, callsPerSecond: 0 });
    const iam = limits.limit(countCalls(iamClient(server.url), metrics), '111111111111');
    const out = await iam.send(new GetAccountSummaryCommand({}));
    expect(out.SummaryMap?.Users).toBe(1);
    expect(out.$metadata.attempts).toBe(2);
    expect(server.starts).toHaveLength(2);
    // The SDK's standard mode waits before retrying a throttled call (jittered, so at least > 0).
    expect(server.starts[1]! - server.starts[0]!).toBeGreaterThan(1);
    const calls = (await metrics.awsCalls.get()).values;
    const retries = (await metrics.awsRetries.get()).values;
    expect(calls).toEqual([
      expect.objectContaining({ value: 1, labels: { service: 'IAM', operation: 'GetAccountSummary' } }),
    ]);
    expect(retries).toEqual([
      expect.objectContaining({ value: 1, labels: { service: 'IAM', operation: 'GetAccountSummary' } }),
    ]);
  });

  it('a limiter refuses a concurrency below one', () => {
    expect(() => new CallLimiter(0, 0)).toThrow(RangeError);
  });
});
