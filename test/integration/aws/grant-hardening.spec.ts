/**
 * The grant engine's security fixes against moto (behaviour only: moto does not enforce IAM;
 * what the broker may do is proven by the simulator in test/unit/deploy/aws-cloudformation.spec.ts):
 * finding 6 (boundaries written in the boundary writer's session, reconcile covers sub-paths,
 * grants refused in the bot's own account), 12 (reconcile goes by the role name), 15 (deny
 * first, roll back on failure), 16 (console link optional) and 2 (identity pinning).
 */
import { fileURLToPath } from 'node:url';
import {
  CreateRoleCommand,
  GetRoleCommand,
  type IAMClient,
  ListRolesCommand,
  TagRoleCommand,
} from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, GrantRollbackError } from '../../../src/errors.js';
import type { Requester } from '../../../src/domain/ports.js';
import { deliveryBlocks } from '../../../src/slack/views/delivery-message.js';
import type { AccessRequest } from '../../../src/domain/access-request.js';
import { resetMoto } from '../../support/services.js';
import {
  ACCOUNT,
  awsError,
  failBelowRetry,
  makeKit,
  recordCalls,
  REQUESTER,
  type Kit,
} from './aws-test-kit.js';

const HOUR = 3600_000;
const FIXTURE_TEMPLATES = fileURLToPath(new URL('./fixtures/templates', import.meta.url));
/** moto's account for any credentials: the bot's own account in these tests. */
const BOT_ACCOUNT = '123456789012';
const TRUST_NOBODY = JSON.stringify({ Version: '2012-10-17', Statement: [] });

async function roleGone(iam: IAMClient, roleName: string): Promise<boolean> {
  try {
    await iam.send(new GetRoleCommand({ RoleName: roleName }));
    return false;
  } catch (error) {
    return (error as Error).name === 'NoSuchEntityException';
  }
}

function grantFor(
  kit: Kit,
  requestId: string,
  options: { templateName?: string; requester?: Requester; accountId?: string } = {},
) {
  const now = kit.clock.now();
  return kit.services.grants.grant({
    requestId,
    accountId: options.accountId ?? ACCOUNT,
    templateName: options.templateName ?? 's3-data-reader',
    requester: options.requester ?? REQUESTER,
    startsAt: new Date(now),
    expiresAt: new Date(now + HOUR),
  });
}

async function roleNames(iam: IAMClient): Promise<string[]> {
  const roles = await iam.send(new ListRolesCommand({ PathPrefix: '/aws-access/' }));
  return (roles.Roles ?? []).map((r) => r.RoleName!).sort();
}

describe('grant engine hardening (moto)', () => {
  let kit: Kit;
  beforeEach(async () => {
    await resetMoto();
  });
  afterEach(async () => kit?.close());

  describe('finding 15: failure atomicity', () => {
    it('finding 15: a grant that fails after CreateRole (a managed policy missing) removes the role before it reports failure', async () => {
      kit = await makeKit((c) => {
        c.templates.directory = FIXTURE_TEMPLATES;
      });
      const iam = await kit.services.accountClients.iam(ACCOUNT);
      // team-reader attaches policy/team/TeamRead, which this account does not have.
      const error = await grantFor(kit, 'req-f15a', { templateName: 'team-reader' }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: ErrorCode.AwsFatal });
      expect(error).not.toBeInstanceOf(GrantRollbackError);
      expect(await roleGone(iam, 'aws-access-req-f15a')).toBe(true);
      expect(await roleNames(iam)).toEqual([]);
    });

    it('finding 15: deny statements (expiry, conditions) go on the role before any allow', async () => {
      kit = await makeKit((c) => {
        c.templates.directory = FIXTURE_TEMPLATES;
      });
      const iam = await kit.services.accountClients.iam(ACCOUNT);
      await iam.send(
        new (await import('@aws-sdk/client-iam')).CreatePolicyCommand({
          PolicyName: 'TeamRead',
          Path: '/team/',
          PolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
          }),
        }),
      );
      const calls = recordCalls(iam);
      await grantFor(kit, 'req-f15b', { templateName: 'team-reader' });
      const steps = calls
        .filter((c) => ['CreateRole', 'PutRolePolicy', 'AttachRolePolicy'].includes(c.command))
        .map((c) => {
          const input = c.input as { PolicyName?: string; PolicyArn?: string };
          return c.command === 'PutRolePolicy' ? `put:${input.PolicyName}` : c.command;
        });
      expect(steps).toEqual(['CreateRole', 'put:expiry', 'put:conditions', 'AttachRolePolicy', 'put:grant']);
    });

    it('finding 15: when the role cannot be removed either, the engine throws GrantRollbackError naming the role', async () => {
      kit = await makeKit();
      const iam = await kit.services.accountClients.iam(ACCOUNT);
      failBelowRetry(iam, 'PutRolePolicy', () => awsError('AccessDenied', 403), 1, 'failGrant');
      failBelowRetry(
        iam,
        'PutRolePermissionsBoundary',
        () => awsError('AccessDenied', 403),
        1,
        'failRollback',
      );
      const error = await grantFor(kit, 'req-f15c').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GrantRollbackError);
      expect(error).toMatchObject({
        accountId: ACCOUNT,
        roleName: 'aws-access-req-f15c',
        roleArn: `arn:aws:iam::${ACCOUNT}:role/aws-access/aws-access-req-f15c`,
      });
      expect((error as Error).message).toMatch(/could not be removed/);
      // The role is still there; a later revoke (reconcile) removes it.
      expect(await roleGone(iam, 'aws-access-req-f15c')).toBe(false);
      expect(await kit.services.grants.revoke(ACCOUNT, 'req-f15c')).toEqual({ removed: true });
      expect(await roleGone(iam, 'aws-access-req-f15c')).toBe(true);
    });

    it('finding 15: a retried grant that finds its own half-made role removes it and starts again', async () => {
      kit = await makeKit();
      const iam = await kit.services.accountClients.iam(ACCOUNT);
      // A crash right after CreateRole: a role with this request's tag and nothing else.
      await iam.send(
        new CreateRoleCommand({
          RoleName: 'aws-access-req-f15d',
          Path: '/aws-access/',
          AssumeRolePolicyDocument: TRUST_NOBODY,
          Tags: [{ Key: 'aws-access:request-id', Value: 'req-f15d' }],
        }),
      );
      const calls = recordCalls(iam);
      await grantFor(kit, 'req-f15d');
      const order = calls.map((c) => c.command);
      // Removed (deny-all boundary first), created again, and only then given policies.
      expect(order.indexOf('PutRolePermissionsBoundary')).toBeGreaterThan(order.indexOf('CreateRole'));
      expect(order.indexOf('DeleteRole')).toBeGreaterThan(order.indexOf('PutRolePermissionsBoundary'));
      expect(order.lastIndexOf('CreateRole')).toBeGreaterThan(order.indexOf('DeleteRole'));
      expect(order.indexOf('PutRolePolicy')).toBeGreaterThan(order.lastIndexOf('CreateRole'));
      const role = (await iam.send(new GetRoleCommand({ RoleName: 'aws-access-req-f15d' }))).Role!;
      expect(role.PermissionsBoundary?.PermissionsBoundaryArn).toContain('boundary-s3-data-reader');
    });
  });

  it('finding 16: credentials delivery without a reachable federation endpoint still delivers the CLI credentials', async () => {
    kit = await makeKit((c) => {
      c.aws.delivery = 'credentials';
      // Nothing listens on port 9: the console sign-in endpoint cannot be reached.
      c.aws.federationEndpoint = 'http://127.0.0.1:9/federation';
    });
    const result = await grantFor(kit, 'req-f16');
    const d = result.delivery;
    expect(d.mode).toBe('credentials');
    expect(d.envExports).toMatch(/^export AWS_ACCESS_KEY_ID=\S+/m);
    expect(d.consoleSignInUrl).toBeUndefined();
    expect(d.consoleSignInUnavailable).toBe(true);
    const iam = await kit.services.accountClients.iam(ACCOUNT);
    expect(await roleGone(iam, 'aws-access-req-f16')).toBe(false);

    // The DM says the link is unavailable and keeps the Refresh button.
    const request = { id: 'req-f16', templateName: 's3-data-reader', accountName: 'member' } as AccessRequest;
    const text = JSON.stringify(deliveryBlocks(request, d));
    expect(text).toContain('console sign-in link is unavailable');
    expect(text).toContain('delivery_refresh');
    expect(text).toContain('export AWS_SECRET_ACCESS_KEY=');
  });

  describe('finding 12: reconcile goes by the role name', () => {
    it('finding 12: a role whose request-id tag names an active grant is still reported by its name, with the mismatch', async () => {
      kit = await makeKit();
      const iam = await kit.services.accountClients.iam(ACCOUNT);
      await grantFor(kit, 'req-stray');
      // Someone retags the stray role as if it belonged to the live grant req-live.
      await iam.send(
        new TagRoleCommand({
          RoleName: 'aws-access-req-stray',
          Tags: [{ Key: 'aws-access:request-id', Value: 'req-live' }],
        }),
      );
      const report = await kit.services.grants.reconcile(
        ACCOUNT,
        new Map([['req-live', new Date(kit.clock.now() + HOUR)]]),
      );
      expect(report.orphaned).toEqual([
        expect.objectContaining({
          roleName: 'aws-access-req-stray',
          requestId: 'req-stray',
          mismatchedTagRequestId: 'req-live',
        }),
      ]);
      expect(report.missing).toEqual(['req-live']);
      expect(report.tagMismatches?.map((r) => r.roleName)).toEqual(['aws-access-req-stray']);
    });

    it('finding 12: a live grant whose tag was changed stays its own and the mismatch is reported', async () => {
      kit = await makeKit();
      const iam = await kit.services.accountClients.iam(ACCOUNT);
      await grantFor(kit, 'req-mine');
      await iam.send(
        new TagRoleCommand({
          RoleName: 'aws-access-req-mine',
          Tags: [{ Key: 'aws-access:request-id', Value: 'req-other' }],
        }),
      );
      const report = await kit.services.grants.reconcile(
        ACCOUNT,
        new Map([['req-mine', new Date(kit.clock.now() + HOUR)]]),
      );
      expect(report.orphaned).toEqual([]);
      expect(report.missing).toEqual([]);
      expect(report.tagMismatches).toEqual([
        expect.objectContaining({ requestId: 'req-mine', mismatchedTagRequestId: 'req-other' }),
      ]);
    });
  });

  describe('finding 6: boundaries, sub-paths and the bot account', () => {
    it('finding 6: boundary policies are written in the boundary writer session, never the broker session', async () => {
      kit = await makeKit();
      const broker = recordCalls(await kit.services.accountClients.iam(ACCOUNT), 'brokerCalls');
      const writer = recordCalls(await kit.services.boundaryClients.iam(ACCOUNT), 'writerCalls');
      expect(kit.services.boundaryClients.brokerRoleArn(ACCOUNT)).toBe(
        `arn:aws:iam::${ACCOUNT}:role/aws-access-boundary-writer`,
      );
      await grantFor(kit, 'req-f6a');
      expect(writer.map((c) => c.command)).toContain('CreatePolicy');
      expect(broker.map((c) => c.command)).toContain('CreateRole');
      const policyWrites =
        /^(CreatePolicy|CreatePolicyVersion|DeletePolicyVersion|SetDefaultPolicyVersion|TagPolicy)$/;
      expect(broker.filter((c) => policyWrites.test(c.command))).toEqual([]);
      expect(writer.filter((c) => !/Polic/.test(c.command))).toEqual([]);
    });

    it('finding 6: reconcile reports roles under a /aws-access/ sub-path or with a foreign name, and removes them', async () => {
      kit = await makeKit();
      const iam = await kit.services.accountClients.iam(ACCOUNT);
      await grantFor(kit, 'req-f6b');
      for (const [RoleName, Path] of [
        ['aws-access-req-f6b', '/aws-access/x/hidden/'],
        ['backdoor', '/aws-access/'],
        ['aws-access-x', '/aws-access/aws-access-x/hidden/'],
      ] as const) {
        await iam
          .send(
            new CreateRoleCommand({ RoleName: `${RoleName}`, Path, AssumeRolePolicyDocument: TRUST_NOBODY }),
          )
          .catch(async (e: unknown) => {
            // moto, like IAM, has one namespace for role names: put the sub-path one elsewhere.
            if ((e as Error).name !== 'EntityAlreadyExistsException') throw e;
            await iam.send(
              new CreateRoleCommand({
                RoleName: 'aws-access-hidden1',
                Path,
                AssumeRolePolicyDocument: TRUST_NOBODY,
              }),
            );
          });
      }
      const report = await kit.services.grants.reconcile(
        ACCOUNT,
        new Map([['req-f6b', new Date(kit.clock.now() + HOUR)]]),
      );
      const foreign = (report.foreign ?? []).map((r) => `${r.path}${r.roleName}`).sort();
      expect(foreign).toEqual([
        '/aws-access/aws-access-x/hidden/aws-access-x',
        '/aws-access/backdoor',
        '/aws-access/x/hidden/aws-access-hidden1',
      ]);
      expect(report.orphaned).toEqual([]);
      for (const role of report.foreign!) {
        expect(await kit.services.grants.removeForeignRole(ACCOUNT, role)).toEqual({ removed: true });
      }
      expect(await roleNames(iam)).toEqual(['aws-access-req-f6b']);
    });

    it("finding 6: a grant in the bot's own account is refused before anything is created, and the account is not listed", async () => {
      kit = await makeKit((c) => {
        c.aws.accounts = [
          { id: ACCOUNT, name: 'member', aliases: [], ouPath: [] },
          { id: BOT_ACCOUNT, name: 'bot-home', aliases: [], ouPath: [] },
        ] as never;
      });
      const iam = await kit.services.accountClients.iam(BOT_ACCOUNT);
      const calls = recordCalls(iam);
      const error = await grantFor(kit, 'req-f6c', { accountId: BOT_ACCOUNT }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: ErrorCode.Forbidden });
      expect((error as Error).message).toMatch(/bot's own account/);
      expect(calls).toEqual([]);
      expect((await kit.services.accounts.listAccounts()).map((a) => a.id)).toEqual([ACCOUNT]);
      expect(await kit.services.accounts.findAccount('bot-home')).toBeUndefined();
    });

    it('finding 6: aws.allowGrantsInBotAccount lets grants into the bot account explicitly', async () => {
      kit = await makeKit((c) => {
        c.aws.allowGrantsInBotAccount = true;
        c.aws.accounts = [{ id: BOT_ACCOUNT, name: 'bot-home', aliases: [], ouPath: [] }] as never;
      });
      const result = await grantFor(kit, 'req-f6d', { accountId: BOT_ACCOUNT });
      expect(result.roleArn).toBe(`arn:aws:iam::${BOT_ACCOUNT}:role/aws-access/aws-access-req-f6d`);
      expect((await kit.services.accounts.listAccounts()).map((a) => a.id)).toEqual([BOT_ACCOUNT]);
    });
  });

  describe('finding 2: identity pinning', () => {
    const SSO_ROLE =
      'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Developer_0123456789abcdef';

    it('finding 2: a shared role principal without a session name is refused before anything is created', async () => {
      kit = await makeKit();
      const iam = await kit.services.accountClients.iam(ACCOUNT);
      const calls = recordCalls(iam);
      const error = await grantFor(kit, 'req-f2a', {
        requester: { slackUserId: 'U0SHARED', principalArn: SSO_ROLE },
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: ErrorCode.Forbidden });
      expect((error as Error).message).toMatch(/cannot be pinned to one person/);
      expect(calls).toEqual([]);
    });

    it("finding 2: with the requester's session name the trust pins aws:userid to that session", async () => {
      kit = await makeKit();
      await grantFor(kit, 'req-f2b', {
        requester: {
          slackUserId: 'U0SHARED',
          principalArn: SSO_ROLE,
          principalSessionName: 'alice@example.com',
        },
      });
      const iam = await kit.services.accountClients.iam(ACCOUNT);
      const role = (await iam.send(new GetRoleCommand({ RoleName: 'aws-access-req-f2b' }))).Role!;
      const trust = JSON.parse(decodeURIComponent(role.AssumeRolePolicyDocument!)) as {
        Statement: Array<{ Principal: { AWS: string }; Condition?: Record<string, unknown> }>;
      };
      expect(trust.Statement[0]!.Principal.AWS).toBe(SSO_ROLE);
      expect(trust.Statement[0]!.Condition).toMatchObject({
        StringLike: { 'aws:userid': '*:alice@example.com' },
      });
    });
  });
});
