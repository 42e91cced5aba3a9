import { z } from 'zod';
import {
  isRoleArn,
  PRINCIPAL_ARN_RE,
  PRINCIPAL_TEMPLATE_VARIABLES,
  principalKey,
} from '../../domain/identity.js';
import { accountId, slackUserId, withFieldDefaults } from './primitives.js';

const identitiesObject = z
  .object({
    byEmail: withFieldDefaults(
      z
        .object({
          enabled: z
            .boolean()
            .default(false)
            .describe(
              'map a Slack user to an AWS principal by their Slack profile e-mail when they are not in the map',
            ),
          principalTemplate: z
            .string()
            .default('arn:aws:iam::${identity_account_id}:user/${email}')
            .describe(
              'principal ARN built from the Slack e-mail with `${email}` and `${identity_account_id}`; a role ARN here is pinned to sessions named after the e-mail (Identity Center)',
            ),
          identityAccountId: accountId
            .optional()
            .describe('the account holding the IAM users people sign in as (`${identity_account_id}`)'),
        })
        .strict(),
    ).describe('fallback mapping from the Slack profile e-mail'),
    map: z
      .record(
        slackUserId,
        z
          .object({
            principal: z
              .string()
              .regex(
                PRINCIPAL_ARN_RE,
                'must be an IAM user or role ARN, or an assumed-role session ARN (arn:aws:sts::…:assumed-role/…/…)',
              )
              .describe(
                'IAM user, role or assumed-role session ARN the requester signs in as; one person per principal',
              ),
            sessionName: z
              .string()
              .regex(
                /^[\w+=,.@-]{2,64}$/,
                'must be a role session name (2-64 of letters, digits and +=,.@_-)',
              )
              .optional()
              .describe(
                "required when `principal` is a role shared by many people (e.g. an Identity Center permission-set role): this person's session name, which the grant's trust policy pins",
              ),
            email: z
              .email()
              .optional()
              .describe("the person's e-mail (also used to find key owners tagged `email`)"),
            identityCenterUserName: z
              .string()
              .min(1)
              .max(128)
              .optional()
              .describe(
                "the person's Identity Center user name (identity-center backend); without it the user is found by the Slack e-mail",
              ),
          })
          .strict()
          .describe('one person, keyed by their Slack user id'),
      )
      .default({})
      .describe('Slack user id → the AWS principal a granted role trusts'),
  })
  .strict();

export const identitiesSchema = withFieldDefaults(identitiesObject.superRefine(checkIdentities)).describe(
  'who a Slack user is in AWS: the principal a granted role trusts',
);

/**
 * One person, one principal: two Slack users mapped to one principal (or one e-mail) would be
 * two approvers of one request, or approve each other's. A role shared by many people needs the
 * person's session name, or the grant would trust everyone holding that role.
 */
function checkIdentities(identities: z.output<typeof identitiesObject>, ctx: z.RefinementCtx): void {
  const byPrincipal = new Map<string, string>();
  const byEmail = new Map<string, string>();
  const byIdentityCenterUser = new Map<string, string>();
  for (const [userId, entry] of Object.entries(identities.map)) {
    if (entry.identityCenterUserName) {
      const name = entry.identityCenterUserName.toLowerCase();
      const same = byIdentityCenterUser.get(name);
      if (same) {
        ctx.addIssue({
          code: 'custom',
          path: ['map', userId, 'identityCenterUserName'],
          message: `${userId} and ${same} name the same Identity Center user: one person may have one Slack account in the map`,
        });
      } else byIdentityCenterUser.set(name, userId);
    }
    if (isRoleArn(entry.principal) && !entry.sessionName) {
      ctx.addIssue({
        code: 'custom',
        path: ['map', userId, 'sessionName'],
        message:
          "is required for a role principal: a role is shared by everyone who can assume it, so the grant must trust only this person's sessions",
      });
    }
    const key = principalKey(entry.principal, entry.sessionName);
    const other = byPrincipal.get(key);
    if (other) {
      ctx.addIssue({
        code: 'custom',
        path: ['map', userId, 'principal'],
        message: `${userId} and ${other} are mapped to the same principal: two Slack accounts of one person would count as two approvers`,
      });
    } else byPrincipal.set(key, userId);
    if (entry.email) {
      const email = entry.email.toLowerCase();
      const same = byEmail.get(email);
      if (same) {
        ctx.addIssue({
          code: 'custom',
          path: ['map', userId, 'email'],
          message: `${userId} and ${same} have the same e-mail: one person may have one Slack account in the map`,
        });
      } else byEmail.set(email, userId);
    }
  }
  const known: readonly string[] = PRINCIPAL_TEMPLATE_VARIABLES;
  for (const [, name] of identities.byEmail.principalTemplate.matchAll(/\$\{([^}]*)\}/g)) {
    if (!known.includes(name!)) {
      ctx.addIssue({
        code: 'custom',
        path: ['byEmail', 'principalTemplate'],
        message: `unknown variable \${${name}}: use ${known.map((v) => `\${${v}}`).join(' or ')}${
          name === 'email_local'
            ? ' (${email_local} was removed: alice@corp and alice@personal would become one user)'
            : ''
        }`,
      });
    }
  }
}
