/**
 * The IAM path of everything the bot makes (grant roles, boundaries). The same value as
 * `templates/grant-policies.ts` ROLE_PATH, which domain/ may not import; a unit test holds
 * the two equal.
 */
export const POSTURE_ROLE_PATH = '/aws-access/';
