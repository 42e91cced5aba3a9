/**
 * A GrantEngine for Slack-flow tests: records every call, answers with a realistic assume-mode
 * Delivery, and can be told to fail (or to be slow) on demand. The AWS behaviour itself is
 * tested against moto in the AWS helper's suites.
 */
import type {
  Delivery,
  GrantEngine,
  GrantRequest,
  GrantResult,
  ReconcileReport,
  Requester,
} from '../../src/domain/ports.js';

export interface GrantCall {
  method: 'grant' | 'revoke' | 'extend' | 'refreshDelivery' | 'reconcile';
  requestId?: string;
  accountId: string;
  args: unknown;
}

export class RecordingGrantEngine implements GrantEngine {
  readonly calls: GrantCall[] = [];
  /** Milliseconds each grant takes, to widen race windows in concurrency tests. */
  delayMs = 0;
  private readonly failures = new Map<GrantCall['method'], Error[]>();

  failNext(
    method: GrantCall['method'],
    error = new Error('AccessDenied: simulated failure'),
    times = 1,
  ): this {
    const list = this.failures.get(method) ?? [];
    for (let i = 0; i < times; i++) list.push(error);
    this.failures.set(method, list);
    return this;
  }

  callsTo(method: GrantCall['method']): GrantCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  private async enter(call: GrantCall): Promise<void> {
    this.calls.push(call);
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const failure = this.failures.get(call.method)?.shift();
    if (failure) throw failure;
  }

  roleName(requestId: string): string {
    return `aws-access-${requestId}`;
  }

  static delivery(accountId: string, requestId: string, expiresAt: Date): Delivery {
    const roleName = `aws-access-${requestId}`;
    return {
      mode: 'assume',
      accountId,
      roleArn: `arn:aws:iam::${accountId}:role/aws-access/${roleName}`,
      roleName,
      expiresAt,
      switchRoleUrl: `https://signin.aws.amazon.com/switchrole?account=${accountId}&roleName=aws-access%2F${roleName}`,
      cliProfile: `[profile ${roleName}]\nrole_arn = arn:aws:iam::${accountId}:role/aws-access/${roleName}\nsource_profile = default`,
    };
  }

  async grant(request: GrantRequest): Promise<GrantResult> {
    await this.enter({
      method: 'grant',
      requestId: request.requestId,
      accountId: request.accountId,
      args: request,
    });
    const delivery = RecordingGrantEngine.delivery(request.accountId, request.requestId, request.expiresAt);
    return { roleArn: delivery.roleArn, roleName: delivery.roleName, delivery };
  }

  async revoke(accountId: string, requestId: string): Promise<{ removed: boolean }> {
    await this.enter({ method: 'revoke', requestId, accountId, args: {} });
    return { removed: true };
  }

  async extend(accountId: string, requestId: string, expiresAt: Date): Promise<void> {
    await this.enter({ method: 'extend', requestId, accountId, args: { expiresAt } });
  }

  async refreshDelivery(accountId: string, requestId: string, _requester: Requester): Promise<Delivery> {
    await this.enter({ method: 'refreshDelivery', requestId, accountId, args: {} });
    return RecordingGrantEngine.delivery(accountId, requestId, new Date(Date.now() + 3600_000));
  }

  async reconcile(accountId: string, activeGrants: ReadonlyMap<string, Date>): Promise<ReconcileReport> {
    await this.enter({ method: 'reconcile', accountId, args: { active: [...activeGrants.keys()] } });
    return { orphaned: [], overdue: [], missing: [] };
  }
}
