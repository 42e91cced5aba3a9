import { afterEach, describe, expect, it } from 'vitest';
import type { Delivery, GrantRequest, GrantResult, Requester } from '../../src/domain/ports.js';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { RecordingGrantEngine } from '../support/recording-grant-engine.js';
import { testConfig } from '../support/services.js';
import { blockActionsBody } from '../support/slack-request.js';
import {
  APPROVER1,
  approverMessage,
  click,
  command,
  dmsTo,
  ephemeralsTo,
  REQUESTER,
  seedPeople,
  STRANGER,
  waitUntil,
} from '../support/slack-flow.js';

/** Answers like the engine in credentials mode: a sign-in link and a session, new each time. */
class CredentialsModeEngine extends RecordingGrantEngine {
  private sessions = 0;
  private credentials(accountId: string, requestId: string, expiresAt: Date): Delivery {
    this.sessions += 1;
    const roleName = `aws-access-${requestId}`;
    return {
      mode: 'credentials',
      accountId,
      roleArn: `arn:aws:iam::${accountId}:role/aws-access/${roleName}`,
      roleName,
      expiresAt,
      consoleSignInUrl: `https://signin.aws.amazon.com/federation?Action=login&SigninToken=token-${this.sessions}`,
      envExports: `export AWS_SESSION_TOKEN=session-${this.sessions}`,
    };
  }
  override async grant(request: GrantRequest): Promise<GrantResult> {
    await super.grant(request);
    const delivery = this.credentials(request.accountId, request.requestId, request.expiresAt);
    return { roleArn: delivery.roleArn, roleName: delivery.roleName, delivery };
  }
  override async refreshDelivery(
    accountId: string,
    requestId: string,
    requester: Requester,
  ): Promise<Delivery> {
    await super.refreshDelivery(accountId, requestId, requester);
    return this.credentials(accountId, requestId, new Date(Date.now() + 3600_000));
  }
}

describe('credentials-mode delivery', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('has a Refresh button that DMs a new session to the requester only, never to anyone else', async () => {
    const grants = new CredentialsModeEngine();
    app = await startTestApp({ loaded: testConfig(), adapters: { grants } });
    seedPeople(app.fake);
    const running = app;
    await command(app, 'sbx readonly 2h looking at alarms');
    const msg = await approverMessage(app.fake);
    await click(app, APPROVER1, 'request_approve', msg);
    const first = await waitUntil(
      () =>
        dmsTo(running.fake, REQUESTER).find((c) => JSON.stringify(c.args.blocks ?? '').includes('session-1')),
      'first delivery',
    );
    const refresh = JSON.stringify(first.args.blocks).includes('delivery_refresh');
    expect(refresh).toBe(true);
    // The notification text never carries the secret.
    expect(String(first.args.text)).not.toContain('session-1');

    const press = (userId: string) =>
      running.post(
        blockActionsBody({
          userId,
          actionId: 'delivery_refresh',
          value: msg.requestId,
          message: { channel: REQUESTER, ts: '1700000000.000001' },
        }),
      );
    expect((await press(STRANGER)).status).toBe(200);
    await waitUntil(
      () => ephemeralsTo(running.fake, STRANGER).find((t) => t.includes('does not exist')),
      'refusal for someone else',
    );
    expect(grants.callsTo('refreshDelivery')).toHaveLength(0);

    await press(REQUESTER);
    const second = await waitUntil(
      () =>
        dmsTo(running.fake, REQUESTER).find((c) => JSON.stringify(c.args.blocks ?? '').includes('session-2')),
      'refreshed delivery',
    );
    expect(second.args.channel).toBe(REQUESTER);
    expect(grants.callsTo('refreshDelivery')).toHaveLength(1);
    const everywhereElse = running.fake.calls.filter(
      (c) => c.args.channel !== REQUESTER && JSON.stringify(c.args).includes('session-'),
    );
    expect(everywhereElse).toEqual([]);

    // Once the grant is revoked, Refresh issues nothing.
    await command(app, `revoke ${msg.requestId}`);
    await waitUntil(
      async () => (await running.service.requests.get(msg.requestId))?.state === 'revoked',
      'revoked',
    );
    await press(REQUESTER);
    await waitUntil(
      () => ephemeralsTo(running.fake, REQUESTER).find((t) => t.includes('not an active grant')),
      'refusal after revoke',
    );
    expect(grants.callsTo('refreshDelivery')).toHaveLength(1);
  });
});
