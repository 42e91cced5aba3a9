/**
 * The grant backends (docs/aws-grants.md "Choosing a backend"): `iam-role`, a role per request
 * in the target account (the default), or `identity-center`, a bot-owned permission set per
 * template assigned to the requester's Identity Center user for the request's duration.
 */
import { z } from 'zod';

export const GRANT_BACKENDS = ['iam-role', 'identity-center'] as const;
export type GrantBackendName = (typeof GRANT_BACKENDS)[number];

export const grantBackendSchema = z
  .enum(GRANT_BACKENDS)
  .describe('`iam-role` (a role per request) or `identity-center` (a permission set assignment)');

/** Where the organization's Identity Center instance lives; the bot calls it with its own credentials. */
export const identityCenterSchema = z
  .object({
    instanceArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/,
        'must be an Identity Center instance ARN (arn:aws:sso:::instance/ssoins-…)',
      )
      .describe('the Identity Center instance ARN (`aws sso-admin list-instances`)'),
    identityStoreId: z
      .string()
      .regex(
        /^d-[0-9a-f]{10}$|^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/,
        'must be an identity store id (d-…)',
      )
      .describe("the instance's identity store id, where requesters are looked up"),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1')
      .describe('the region the Identity Center instance lives in'),
    accessPortalUrl: z
      .url()
      .optional()
      .describe(
        'the AWS access portal URL people sign in at; default `https://<identityStoreId>.awsapps.com/start`',
      ),
  })
  .strict()
  .describe('the IAM Identity Center instance used by the `identity-center` backend');

export type IdentityCenterConfig = z.output<typeof identityCenterSchema>;
