/**
 * Fail closed: an approval or a grant whose audit event cannot be written does not stand. The
 * real service, real Redis (the audit stream made unwritable: its key turned into a string, so
 * XADD fails with WRONGTYPE), the fake Slack API and a recording grant engine.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { GrantRequest, GrantResult } from '../../src/domain/ports.js';
import { auditKeys } from '../../src/store/audit-log.js';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { RecordingGrantEngine } from '../support/recording-grant-engine.js';
import { testConfig } from '../support/services.js';
import {
  APPROVER1,
  approverMessage,
  click,
  command,
  dmsTo,
  ephemeralsTo,
  PROD_APPROVERS,
  REQUESTER,
  seedPeople,
  waitUntil,
} from '../support/slack-flow.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

/** Makes every further audit append fail: the stream's key now holds a string. */
async function breakAuditStream(a: TestApp): Promise<void> {
  const { stream } = auditKeys(a.loaded.config.redis.prefix);
  await a.service.redis.del(stream);
  await a.service.redis.set(stream, 'not a stream any more');
}

/** Grants like RecordingGrantEngine, then runs `afterGrant` (here: breaks the audit stream). */
class HookedGrantEngine extends RecordingGrantEngine {
  afterGrant?: () => Promise<void>;
  override async grant(request: GrantRequest): Promise<GrantResult> {
    const result = await super.grant(request);
    await this.afterGrant?.();
    return result;
  }
}

async function answerTo(a: TestApp, userId: string): Promise<string> {
  return waitUntil(() => ephemeralsTo(a.fake, userId)[0], `an answer to ${userId}`);
}

describe('audit appends for approve and grant fail closed', () => {
  it('an approval that cannot be recorded does not grant: the request ends failed and the approver is told', async () => {
    app = await startTestApp({ loaded: testConfig() });
    const a = app;
    seedPeople(a.fake);
    await command(a, 'sbx readonly 1h checking alarms');
    const msg = await approverMessage(a.fake);
    await breakAuditStream(a);
    await click(a, APPROVER1, 'request_approve', msg);
    expect(await answerTo(a, APPROVER1)).toMatch(
      /could not be recorded in the audit log, so it does not count/,
    );
    const request = await a.service.requests.get(msg.requestId);
    expect(request).toMatchObject({ state: 'failed' });
    expect(request?.failure).toContain('could not be written to the audit log');
    expect(a.grants.callsTo('grant')).toHaveLength(0);
    const toRequester = dmsTo(a.fake, REQUESTER).map((c) => String(c.args.text));
    expect(toRequester.some((t) => /could not be approved.*Nothing was granted/.test(t))).toBe(true);
    expect(toRequester.some((t) => /was approved/.test(t))).toBe(false);
  });

  it('a counted approval (1 of 2) that cannot be recorded is not left standing: the request ends denied', async () => {
    app = await startTestApp({ loaded: testConfig() });
    const a = app;
    seedPeople(a.fake);
    await command(a, 'prod readonly 1h checking alarms');
    const msg = await approverMessage(a.fake);
    await breakAuditStream(a);
    await click(a, PROD_APPROVERS[0]!, 'request_approve', msg);
    expect(await answerTo(a, PROD_APPROVERS[0]!)).toMatch(/could not be recorded in the audit log/);
    const request = await a.service.requests.get(msg.requestId);
    expect(request).toMatchObject({ state: 'denied', decidedBy: 'system' });
    // A second approval cannot complete it any more.
    await click(a, PROD_APPROVERS[1]!, 'request_approve', msg);
    expect(await answerTo(a, PROD_APPROVERS[1]!)).toMatch(/already denied/);
    expect(a.grants.callsTo('grant')).toHaveLength(0);
  });

  it('a grant whose audit event cannot be written is revoked again and the request ends failed', async () => {
    const grants = new HookedGrantEngine();
    app = await startTestApp({ loaded: testConfig(), adapters: { grants } });
    const a = app;
    grants.afterGrant = () => breakAuditStream(a);
    seedPeople(a.fake);
    await command(a, 'sbx readonly 1h checking alarms');
    const msg = await approverMessage(a.fake);
    await click(a, APPROVER1, 'request_approve', msg);
    await waitUntil(async () => {
      const state = (await a.service.requests.get(msg.requestId))?.state;
      return state === 'failed' || state === 'active' ? state : undefined;
    }, 'the grant to settle');
    const request = await a.service.requests.get(msg.requestId);
    expect(request).toMatchObject({ state: 'failed' });
    expect(request?.failure).toContain(
      'the grant could not be written to the audit log; the role was removed',
    );
    expect(grants.callsTo('grant')).toHaveLength(1);
    expect(grants.callsTo('revoke').map((c) => c.requestId)).toEqual([msg.requestId]);
    // The requester hears that granting failed, and never gets the access itself.
    const toRequester = dmsTo(a.fake, REQUESTER).map((c) => JSON.stringify(c.args));
    expect(toRequester.some((t) => t.includes(`Granting request ${msg.requestId} failed`))).toBe(true);
    expect(toRequester.some((t) => /switchrole|role_arn|access granted/i.test(t))).toBe(false);
    const alerts = a.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0SECURITY');
    expect(alerts.some((c) => JSON.stringify(c.args).includes('could not be written to the audit log'))).toBe(
      true,
    );
  });
});
