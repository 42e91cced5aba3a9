/**
 * GrantBackends: a new grant goes where the config says; everything after it goes to the
 * backend that made it (known from the Identity Center holders in Redis), whatever the config
 * says by then; reconcile hands each backend only its own active grants.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { GrantBackends } from '../../../src/aws/grant-backends.js';
import type { IdentityCenterGrantEngine } from '../../../src/aws/identity-center/identity-center-engine.js';
import type { AppConfig } from '../../../src/config/schema.js';
import type { GrantRequest } from '../../../src/domain/ports.js';
import { AssignmentHolders } from '../../../src/store/assignment-holders.js';
import { RecordingGrantEngine } from '../../support/recording-grant-engine.js';
import { testRedis, uniquePrefix } from '../../support/services.js';

const IC_ACCOUNT = '111111111111';
const ROLE_ACCOUNT = '222222222222';

function settings(): Pick<AppConfig['aws'], 'grantBackend' | 'templateGrantBackends' | 'accounts'> {
  return {
    grantBackend: 'iam-role',
    templateGrantBackends: { 'admin-breakglass': 'iam-role' },
    accounts: [
      { id: IC_ACCOUNT, aliases: [], ouPath: [], grantBackend: 'identity-center' },
      { id: ROLE_ACCOUNT, aliases: [], ouPath: [] },
    ],
  };
}

const request = (requestId: string, accountId: string, templateName = 'readonly'): GrantRequest => ({
  requestId,
  accountId,
  templateName,
  requester: { slackUserId: 'U0A', principalArn: 'arn:aws:iam::123456789012:user/a' },
  startsAt: new Date(0),
  expiresAt: new Date(3_600_000),
});

describe('GrantBackends', () => {
  let redis: Redis;
  let cleanup: () => Promise<void>;
  let holders: AssignmentHolders;
  let roles: RecordingGrantEngine;
  let ic: RecordingGrantEngine;
  let backends: GrantBackends;
  beforeEach(async () => {
    const prefix = uniquePrefix('backends');
    ({ redis, cleanup } = await testRedis(prefix));
    holders = new AssignmentHolders(redis, prefix);
    roles = new RecordingGrantEngine();
    ic = new RecordingGrantEngine();
    backends = new GrantBackends({
      roles,
      identityCenter: ic as unknown as IdentityCenterGrantEngine,
      holders,
      settings: settings(),
    });
  });
  afterEach(async () => cleanup());

  const holdFor = (requestId: string) =>
    holders.hold({
      requestId,
      accountId: IC_ACCOUNT,
      instanceArn: 'arn:aws:sso:::instance/ssoins-1234567890abcdef',
      permissionSetArn: 'arn:aws:sso:::instance/ssoins-1234567890abcdef/ps-0123456789abcdef',
      permissionSetName: 'aws-access-readonly',
      principalId: 'u-1',
      userName: 'a',
      templateName: 'readonly',
      heldSince: 0,
    });

  it('sends a new grant to the backend of its template, else of its account, else the default', async () => {
    await backends.grant(request('r-ic', IC_ACCOUNT));
    await backends.grant(request('r-role', ROLE_ACCOUNT));
    await backends.grant(request('r-bg', IC_ACCOUNT, 'admin-breakglass'));
    expect(ic.callsTo('grant').map((c) => c.requestId)).toEqual(['r-ic']);
    expect(roles.callsTo('grant').map((c) => c.requestId)).toEqual(['r-role', 'r-bg']);
  });

  it('revokes, extends and refreshes through the backend that made the grant', async () => {
    await holdFor('r-ic');
    await backends.revoke(IC_ACCOUNT, 'r-ic');
    await backends.revoke(IC_ACCOUNT, 'r-role-in-ic-account');
    await backends.extend(IC_ACCOUNT, 'r-ic', new Date(1));
    expect(ic.calls.map((c) => `${c.method}:${c.requestId}`)).toEqual(['revoke:r-ic', 'extend:r-ic']);
    expect(roles.calls.map((c) => `${c.method}:${c.requestId}`)).toEqual(['revoke:r-role-in-ic-account']);
  });

  it('reconcile gives each backend only its own active grants, and lists roles only where roles may be', async () => {
    await holdFor('r-ic');
    const end = new Date(3_600_000);
    await backends.reconcile(
      IC_ACCOUNT,
      new Map([
        ['r-ic', end],
        ['r-role', end],
      ]),
    );
    expect(ic.callsTo('reconcile').map((c) => (c.args as { active: string[] }).active)).toEqual([['r-ic']]);
    expect(roles.callsTo('reconcile').map((c) => (c.args as { active: string[] }).active)).toEqual([
      ['r-role'],
    ]);
    // An identity-center account with no role grant: roles are still listed, because a
    // template (admin-breakglass) is granted as a role everywhere.
    await backends.reconcile(IC_ACCOUNT, new Map([['r-ic', end]]));
    expect(roles.callsTo('reconcile')).toHaveLength(2);
  });
});
