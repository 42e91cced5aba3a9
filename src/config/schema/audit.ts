import { z } from 'zod';
import { parseDuration } from '../../domain/duration.js';
import { durationSchema, withFieldDefaults } from './primitives.js';

export const auditSchema = withFieldDefaults(
  z
    .object({
      anchor: z
        .object({
          bucket: z
            .string()
            .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name')
            .describe('S3 bucket created with Object Lock enabled (deploy/aws/audit-anchor-bucket.yaml)'),
          prefix: z
            .string()
            .regex(/^([A-Za-z0-9!_.*'()-]+\/)*$/, 'empty, or path segments each ending in /')
            .default('audit-anchors/')
            .describe('key prefix of the anchor objects, ending in /'),
          interval: durationSchema
            .default(parseDuration('5m'))
            .describe(
              'how often the worker anchors the chain head; entries newer than the last anchor can still be cut unseen',
            ),
          retention: durationSchema
            .default(parseDuration('400d'))
            .describe('Object Lock retain-until of each anchor, from when it is written'),
          mode: z
            .enum(['GOVERNANCE', 'COMPLIANCE'])
            .default('COMPLIANCE')
            .describe(
              'Object Lock mode: COMPLIANCE cannot be lifted by anyone; GOVERNANCE by holders of s3:BypassGovernanceRetention',
            ),
        })
        .strict()
        .optional()
        .describe(
          'anchor the audit chain head in S3 under Object Lock; omitted: anchoring is off and `audit verify` cannot detect a truncated or deleted log',
        ),
    })
    .strict(),
).describe('the audit trail (a keyed hash chain in Redis; the key comes from `AWS_ACCESS_HMAC_KEY`)');
