/**
 * IAM's propagation delay, simulated in front of moto (which makes a new role assumable at once):
 * a loopback proxy (bench/chaos/fault-proxy.ts) that notes when moto answers a CreateRole, and
 * answers STS AssumeRole of that role with the error AWS gives meanwhile (HTTP 403, `AccessDenied`
 * in STS's XML) until the role's delay has passed; then the call goes through to moto. The delay
 * of each role is set ahead by the bench (`plan`), by role name; roles nobody planned (the broker
 * role, any other) pass at once. Every AssumeRole of a planned role is counted.
 */
import { randomUUID } from 'node:crypto';
import { awsAction, awsService, FaultProxy, type ProxiedRequest } from '../chaos/fault-proxy.js';

export interface PropagatingRole {
  roleName: string;
  /** How long after CreateRole the role becomes assumable (ms; 0: at once). */
  delayMs: number;
  /** When moto answered the CreateRole (epoch ms). */
  createdAt?: number;
  /** createdAt + delayMs. */
  assumableAt?: number;
  /** AssumeRole calls answered AccessDenied by the proxy. */
  refused: number;
  /** AssumeRole calls passed on to moto. */
  passed: number;
  /** The first AssumeRole passed on (epoch ms). */
  firstPassAt?: number;
}

const param = (request: ProxiedRequest, name: string): string | undefined =>
  new URLSearchParams(request.body.toString('utf8')).get(name) ??
  new URL(request.url, 'http://x').searchParams.get(name) ??
  undefined;

/** STS's answer to AssumeRole while the role (or its trust) has not reached every endpoint. */
function accessDeniedXml(roleArn: string): string {
  return [
    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">',
    '<Error><Type>Sender</Type><Code>AccessDenied</Code>',
    `<Message>User is not authorized to perform: sts:AssumeRole on resource: ${roleArn}</Message>`,
    '</Error>',
    `<RequestId>${randomUUID()}</RequestId>`,
    '</ErrorResponse>',
  ].join('');
}

export class IamPropagation {
  readonly roles = new Map<string, PropagatingRole>();
  /** AssumeRole calls on roles nobody planned (the broker sessions). */
  otherAssumeRoles = 0;
  private readonly proxy: FaultProxy;

  constructor(motoUrl: string) {
    this.proxy = new FaultProxy(
      motoUrl,
      (request) => this.decide(request),
      (request, _fault, status) => this.trace(request, status),
    );
  }

  get origin(): string {
    return this.proxy.origin;
  }

  /** The role `roleName` becomes assumable `delayMs` after its CreateRole. */
  plan(roleName: string, delayMs: number): void {
    this.roles.set(roleName, { roleName, delayMs, refused: 0, passed: 0 });
  }

  async start(): Promise<this> {
    await this.proxy.start();
    return this;
  }

  stop(): Promise<void> {
    return this.proxy.stop();
  }

  private decide(request: ProxiedRequest) {
    if (awsService(request) !== 'sts' || awsAction(request) !== 'AssumeRole') return undefined;
    const roleArn = param(request, 'RoleArn') ?? '';
    const role = this.roles.get(roleArn.split('/').pop() ?? '');
    if (!role) {
      this.otherAssumeRoles += 1;
      return undefined;
    }
    const now = Date.now();
    // Not created yet, or created but not yet everywhere: refused, as AWS does.
    if (role.assumableAt === undefined || now < role.assumableAt) {
      role.refused += 1;
      return {
        kind: 'status' as const,
        label: 'AssumeRole refused: role not assumable yet',
        status: 403,
        body: accessDeniedXml(roleArn),
      };
    }
    role.passed += 1;
    role.firstPassAt ??= now;
    return undefined;
  }

  /** Called before forwarding (no status) and once moto has answered (its status). */
  private trace(request: ProxiedRequest, status: number | undefined): void {
    if (status !== 200 || awsService(request) !== 'iam' || awsAction(request) !== 'CreateRole') return;
    const role = this.roles.get(param(request, 'RoleName') ?? '');
    if (!role) return;
    // A re-created role (a retried grant) starts its propagation again.
    role.createdAt = Date.now();
    role.assumableAt = role.createdAt + role.delayMs;
  }
}
