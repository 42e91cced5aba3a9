/**
 * The permission-boundary template file (`templates/<name>.yaml`) and what it becomes once
 * validated. Strict: an unknown or misspelt field is an error naming the file and the field.
 */
import { z } from 'zod';
import { durationSchema } from '../config/schema.js';
import type { AccessLevelSummary } from '../domain/ports.js';
import { policyDocumentSchema, type PolicyDocument } from './policy-document.js';

const duration = durationSchema;

const cidr = z
  .string()
  .regex(
    /^((\d{1,3}\.){3}\d{1,3}\/\d{1,2}|[0-9a-fA-F:]+\/\d{1,3})$/,
    'must be a CIDR such as 203.0.113.0/24',
  );

export const templateFileSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,47}$/, 'lower-case letters, digits and -, at most 48 characters'),
    description: z.string().min(1),
    /** The boundary: the most a grant of this template can ever do. Account-level variables only. */
    boundary: policyDocumentSchema,
    /** Granted inside the boundary. AWS allows 10 managed policies per role by default. */
    managedPolicyArns: z
      .array(
        z
          .string()
          .regex(
            /^arn:(aws|aws-cn|aws-us-gov|\$\{partition\}):iam::(aws|\d{12}|\$\{account_id\}):policy\/.+$/,
            'must be an IAM policy ARN',
          ),
      )
      .max(10)
      .default([]),
    inlinePolicy: policyDocumentSchema.optional(),
    /** credentials mode: further narrows the minted session (2,048 characters at most). */
    sessionPolicy: policyDocumentSchema.optional(),
    defaultDuration: duration,
    maxDuration: duration,
    /** Longest a grant may last including extensions. */
    maxTotalDuration: duration.optional(),
    maxExtensions: z.number().int().min(0).optional(),
    requiresMfa: z.boolean().default(true),
    allowedAccounts: z.array(z.string().min(1)).min(1).optional(),
    allowedOus: z
      .array(z.string().regex(/^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$/, 'must be an OU id'))
      .min(1)
      .optional(),
    conditions: z
      .object({
        sourceIps: z.array(cidr).min(1).optional(),
        regions: z
          .array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be a region such as eu-west-1'))
          .min(1)
          .optional(),
      })
      .strict()
      .optional(),
    breakGlass: z.boolean().default(false),
  })
  .strict();

export type TemplateFile = z.output<typeof templateFileSchema>;

/** A validated template, ready for the grant engine and the Slack flow. */
export interface BoundaryTemplate {
  file: string;
  name: string;
  description: string;
  boundary: PolicyDocument;
  managedPolicyArns: string[];
  inlinePolicy?: PolicyDocument;
  sessionPolicy?: PolicyDocument;
  defaultDurationSeconds: number;
  maxDurationSeconds: number;
  maxTotalSeconds?: number;
  maxExtensions?: number;
  requiresMfa: boolean;
  allowedAccounts?: string[];
  allowedOus?: string[];
  conditions: { sourceIps?: string[]; regions?: string[] };
  breakGlass: boolean;
  summary: AccessLevelSummary;
}
