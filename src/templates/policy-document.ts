/**
 * IAM policy grammar for the documents a template carries (boundary, inline and session
 * policies): identity policies, so no Principal. Strict, so a misspelt element is an error that
 * names the field instead of a policy AWS would reject at grant time.
 */
import { z } from 'zod';

const stringOrList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const CONDITION_OPERATORS = [
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
  'StringLike',
  'StringNotLike',
  'NumericEquals',
  'NumericNotEquals',
  'NumericLessThan',
  'NumericLessThanEquals',
  'NumericGreaterThan',
  'NumericGreaterThanEquals',
  'DateEquals',
  'DateNotEquals',
  'DateLessThan',
  'DateLessThanEquals',
  'DateGreaterThan',
  'DateGreaterThanEquals',
  'Bool',
  'BinaryEquals',
  'IpAddress',
  'NotIpAddress',
  'ArnEquals',
  'ArnLike',
  'ArnNotEquals',
  'ArnNotLike',
  'Null',
];

export function isConditionOperator(op: string): boolean {
  const bare = op.replace(/^(ForAllValues|ForAnyValue):/, '').replace(/IfExists$/, '');
  return CONDITION_OPERATORS.includes(bare) && !(op.startsWith('Null') && op !== 'Null');
}

const conditionValue = z.union([
  z.string(),
  z.boolean(),
  z.number(),
  z.array(z.union([z.string(), z.boolean(), z.number()])).min(1),
]);

const condition = z.record(z.string(), z.record(z.string().min(1), conditionValue));

export const policyStatementSchema = z
  .object({
    Sid: z
      .string()
      .regex(/^[A-Za-z0-9]*$/, 'Sid may hold letters and digits only')
      .optional(),
    Effect: z.enum(['Allow', 'Deny']),
    Action: stringOrList.optional(),
    NotAction: stringOrList.optional(),
    Resource: stringOrList.optional(),
    NotResource: stringOrList.optional(),
    Condition: condition.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    for (const operator of Object.keys(s.Condition ?? {})) {
      if (!isConditionOperator(operator))
        ctx.addIssue({
          code: 'custom',
          path: ['Condition', operator],
          message: 'unknown condition operator',
        });
    }
    if ((s.Action === undefined) === (s.NotAction === undefined))
      ctx.addIssue({ code: 'custom', path: ['Action'], message: 'needs exactly one of Action or NotAction' });
    if ((s.Resource === undefined) === (s.NotResource === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['Resource'],
        message: 'needs exactly one of Resource or NotResource',
      });
  });

export const policyDocumentSchema = z
  .object({
    Version: z.literal('2012-10-17', { message: 'must be "2012-10-17" (policy variables need it)' }),
    Id: z.string().optional(),
    // A single statement object is accepted and kept as a one-element list, so errors always
    // name Statement[i] (a union would only say "Invalid input").
    Statement: z.preprocess(
      (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? [v] : v),
      z.array(policyStatementSchema).min(1),
    ),
  })
  .strict();

export type PolicyStatement = z.output<typeof policyStatementSchema>;
export type PolicyDocument = z.output<typeof policyDocumentSchema>;

export function statementsOf(policy: PolicyDocument): PolicyStatement[] {
  return policy.Statement;
}

export function asList(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** AWS counts policy size in characters without whitespace (outside strings, but near enough). */
export function policySize(policy: unknown): number {
  return JSON.stringify(policy).replace(/\s/g, '').length;
}

export const POLICY_LIMITS = {
  /** Customer managed policy, used for the boundary. */
  managed: 6144,
  /** Sum of a role's inline policies. */
  roleInline: 10240,
  trust: 2048,
  session: 2048,
} as const;
