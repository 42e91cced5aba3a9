import { IAMClient, ListRolesCommand, CreateRoleCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsEndpointUrl, resetMoto, testRedis, uniquePrefix } from '../support/services.js';

describe('the real services behind the tests', () => {
  beforeEach(resetMoto);

  it('answers STS GetCallerIdentity and IAM ListRoles through the real SDK against moto', async () => {
    const sts = new STSClient({ region: 'us-east-1', endpoint: awsEndpointUrl() });
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    expect(identity.Account).toMatch(/^\d{12}$/);

    const iam = new IAMClient({ region: 'us-east-1', endpoint: awsEndpointUrl() });
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'aws-access-smoke',
        Path: '/aws-access/',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${identity.Account}:root` },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
      }),
    );
    const roles = await iam.send(new ListRolesCommand({ PathPrefix: '/aws-access/' }));
    expect(roles.Roles?.map((r) => r.RoleName)).toEqual(['aws-access-smoke']);
  });

  it('moto is reset between tests', async () => {
    const iam = new IAMClient({ region: 'us-east-1', endpoint: awsEndpointUrl() });
    const roles = await iam.send(new ListRolesCommand({ PathPrefix: '/aws-access/' }));
    expect(roles.Roles ?? []).toEqual([]);
  });

  describe('redis', () => {
    const prefix = uniquePrefix();
    let ctx: Awaited<ReturnType<typeof testRedis>>;
    beforeEach(async () => {
      ctx = await testRedis(prefix);
    });
    afterEach(async () => ctx.cleanup());

    it('stores and reads through a real redis-server', async () => {
      await ctx.redis.hset(`${prefix}:req:1`, { state: 'pending', version: '1' });
      expect(await ctx.redis.hgetall(`${prefix}:req:1`)).toEqual({ state: 'pending', version: '1' });
      const info = await ctx.redis.info('server');
      expect(info).toMatch(/redis_version:\d+/);
    });
  });
});
