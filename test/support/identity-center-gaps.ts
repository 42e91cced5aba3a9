/**
 * moto 5.2.1 serves sso-admin and identitystore, but not every call the identity-center backend
 * makes: ProvisionPermissionSet, DescribePermissionSetProvisioningStatus, the permission set
 * tags (ListTagsForResource, TagResource, UntagResource) and the permissions boundary calls
 * answer 404. This small HTTP proxy sits in front of moto for the tests: it forwards every
 * request unchanged, except those calls, which it answers itself from memory (provisioning
 * SUCCEEDED at once, as moto's own statuses are). The assignments, permission sets, policies
 * and users the tests assert on stay moto's. Every answered call is recorded, in order, so tests
 * can check that a set was provisioned to the account before the assignment was made.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';

const TARGET = 'SWBExternalService.';

export interface IdentityCenterGaps {
  url: string;
  /** `Operation` names of sso-admin calls seen, in order (forwarded ones included). */
  calls: string[];
  /** Permission set ARN → its tags. */
  tags: Map<string, Map<string, string>>;
  /** Permission set ARN → its boundary reference. */
  boundaries: Map<string, unknown>;
  /** `<permission set ARN>|<account>` provisioned. */
  provisioned: Set<string>;
  stop(): Promise<void>;
}

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startIdentityCenterGaps(motoUrl: string): Promise<IdentityCenterGaps> {
  const calls: string[] = [];
  const tags = new Map<string, Map<string, string>>();
  const boundaries = new Map<string, unknown>();
  const provisioned = new Set<string>();
  const accountsOf = (arn: string) =>
    [...provisioned].filter((p) => p.startsWith(`${arn}|`)).map((p) => p.slice(arn.length + 1));

  const answer = (op: string, input: Record<string, unknown>): unknown => {
    const arn = String(input.PermissionSetArn ?? input.ResourceArn ?? '');
    switch (op) {
      case 'ProvisionPermissionSet': {
        const targets =
          input.TargetType === 'ALL_PROVISIONED_ACCOUNTS' ? accountsOf(arn) : [String(input.TargetId)];
        for (const account of targets) provisioned.add(`${arn}|${account}`);
        return {
          PermissionSetProvisioningStatus: {
            Status: 'SUCCEEDED',
            RequestId: randomUUID(),
            PermissionSetArn: arn,
            ...(input.TargetId ? { AccountId: input.TargetId } : {}),
          },
        };
      }
      case 'DescribePermissionSetProvisioningStatus':
        return {
          PermissionSetProvisioningStatus: {
            Status: 'SUCCEEDED',
            RequestId: input.ProvisionPermissionSetRequestId,
          },
        };
      case 'ListPermissionSetsProvisionedToAccount':
        return {
          PermissionSets: [...provisioned]
            .filter((p) => p.endsWith(`|${String(input.AccountId)}`))
            .map((p) => p.slice(0, p.lastIndexOf('|'))),
        };
      case 'ListTagsForResource':
        return {
          Tags: [...(tags.get(arn) ?? new Map<string, string>())].map(([Key, Value]) => ({ Key, Value })),
        };
      case 'TagResource': {
        const current = tags.get(arn) ?? new Map<string, string>();
        for (const t of input.Tags as Array<{ Key: string; Value: string }>) current.set(t.Key, t.Value);
        tags.set(arn, current);
        return {};
      }
      case 'UntagResource': {
        for (const k of input.TagKeys as string[]) tags.get(arn)?.delete(k);
        return {};
      }
      case 'PutPermissionsBoundaryToPermissionSet':
        boundaries.set(arn, input.PermissionsBoundary);
        return {};
      case 'GetPermissionsBoundaryForPermissionSet':
        return { PermissionsBoundary: boundaries.get(arn) };
      case 'DeletePermissionsBoundaryFromPermissionSet':
        boundaries.delete(arn);
        return {};
      default:
        return undefined;
    }
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const raw = await body(req);
      const target = String(req.headers['x-amz-target'] ?? '');
      const op = target.startsWith(TARGET) ? target.slice(TARGET.length) : undefined;
      if (op) calls.push(op);
      const input = op ? (JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>) : {};
      const own = op ? answer(op, input) : undefined;
      if (own !== undefined) {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(own));
        return;
      }
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k)),
      ) as Record<string, string>;
      const forwarded = await fetch(`${motoUrl}${req.url ?? '/'}`, {
        method: req.method,
        headers,
        ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body: raw }),
      });
      const text = Buffer.from(await forwarded.arrayBuffer());
      if (op === 'CreatePermissionSet' && forwarded.ok && Array.isArray(input.Tags)) {
        const created = JSON.parse(text.toString('utf8')) as {
          PermissionSet?: { PermissionSetArn?: string };
        };
        const arn = created.PermissionSet?.PermissionSetArn;
        if (arn)
          tags.set(
            arn,
            new Map((input.Tags as Array<{ Key: string; Value: string }>).map((t) => [t.Key, t.Value])),
          );
      }
      const outHeaders: Record<string, string> = {};
      forwarded.headers.forEach((v, k) => {
        if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(k))
          outHeaders[k] = v;
      });
      res.writeHead(forwarded.status, outHeaders);
      res.end(text);
    })().catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ __type: 'InternalServerException', message: String(error) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    tags,
    boundaries,
    provisioned,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
