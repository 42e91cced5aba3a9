/**
 * Small in-memory doubles of the request lifecycle's ports (people, scheduler, notifier, audit
 * log, signer, clock) and `requestWorld`, a RequestService wired to them, the in-memory store and
 * the recording grant engine: use-case tests run in milliseconds without Redis, Slack or AWS.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AccessRequest, PendingExtension } from '../../src/domain/access-request.js';
import type { ApprovalRule, Person } from '../../src/domain/approval-policy.js';
import type { AuditEvent, AuditLog } from '../../src/domain/audit-event.js';
import type { Account, Clock, Delivery, TemplateInfo } from '../../src/domain/ports.js';
import type {
  ExtensionAllowance,
  PeopleDirectory,
  RecordSigner,
  RequestNotifier,
  RequestScheduler,
} from '../../src/domain/request-ports.js';
import type {
  GroupNotifier,
  GroupView,
  RequestGroup,
  RequestGroupStore,
} from '../../src/domain/request-group.js';
import { RequestService, type RequestSettings } from '../../src/domain/request-service.js';
import { staticAccountDirectory, staticTemplateCatalog } from '../../src/domain/static-catalogs.js';
import { MemoryRequestStore } from './memory-request-store.js';
import { RecordingGrantEngine } from './recording-grant-engine.js';
import { testRule } from './rules.js';

/** A clock that moves only when told. */
export class ManualClock implements Clock {
  constructor(private at = Date.UTC(2026, 0, 5, 9, 0, 0)) {}
  now(): number {
    return this.at;
  }
  advance(ms: number): void {
    this.at += ms;
  }
}

export class MemoryAuditLog implements AuditLog {
  readonly events: AuditEvent[] = [];
  private failures = 0;

  /** The next `times` appends throw, as a log that cannot be written would. */
  failNext(times = 1): void {
    this.failures += times;
  }

  async record(event: AuditEvent): Promise<void> {
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('audit log unavailable');
    }
    this.events.push(event);
  }

  /** `action:outcome` of each event about one request, in order. */
  trail(requestId: string): string[] {
    return this.events.filter((e) => e.requestId === requestId).map((e) => `${e.action}:${e.outcome}`);
  }
}

export class MemoryPeople implements PeopleDirectory {
  readonly people = new Map<string, Person>();
  readonly groups = new Map<string, string[]>();

  add(person: Person, groups: string[] = []): this {
    this.people.set(person.id, person);
    for (const g of groups) this.groups.set(g, [...(this.groups.get(g) ?? []), person.id]);
    return this;
  }

  async person(userId: string): Promise<Person | undefined> {
    const person = this.people.get(userId);
    return person && { ...person };
  }

  async groupMembers(groupId: string): Promise<string[]> {
    return [...(this.groups.get(groupId) ?? [])];
  }
}

export class RecordingScheduler implements RequestScheduler {
  readonly pending = new Map<string, { remindAt: number; escalateAt: number; expireAt: number }>();
  readonly grantEnds = new Map<string, { revokeAt: number; warnAt: number }>();

  async schedulePending(
    requestId: string,
    at: { remindAt: number; escalateAt: number; expireAt: number },
  ): Promise<void> {
    if (!this.pending.has(requestId)) this.pending.set(requestId, at);
  }
  async cancelPending(requestId: string): Promise<void> {
    this.pending.delete(requestId);
  }
  async scheduleGrantEnd(requestId: string, at: { revokeAt: number; warnAt: number }): Promise<void> {
    this.grantEnds.set(requestId, at);
  }
  async cancelGrantEnd(requestId: string): Promise<void> {
    this.grantEnds.delete(requestId);
  }
}

export interface Notice {
  kind: keyof RequestNotifier;
  requestId?: string;
  text?: string;
}

/** Records what people would have been told; posts answer with a message ref. */
export class RecordingNotifier implements RequestNotifier {
  readonly notices: Notice[] = [];
  private posts = 0;

  of(kind: Notice['kind'], requestId?: string): Notice[] {
    return this.notices.filter((n) => n.kind === kind && (!requestId || n.requestId === requestId));
  }

  private note(kind: Notice['kind'], request?: AccessRequest, text?: string) {
    this.notices.push({ kind, ...(request ? { requestId: request.id } : {}), ...(text ? { text } : {}) });
    return { channel: 'C-APPROVALS', ts: `${++this.posts}.000` };
  }

  async approvalRequested(request: AccessRequest, _rule: ApprovalRule) {
    return this.note('approvalRequested', request);
  }
  async requestChanged(request: AccessRequest, note?: string) {
    this.note('requestChanged', request, note);
  }
  async toRequester(request: AccessRequest, text: string) {
    this.note('toRequester', request, text);
  }
  async delivered(request: AccessRequest, _delivery: Delivery) {
    this.note('delivered', request);
  }
  async remind(request: AccessRequest, _rule: ApprovalRule) {
    this.note('remind', request);
  }
  async escalate(request: AccessRequest, _rule: ApprovalRule) {
    this.note('escalate', request);
  }
  async breakGlass(request: AccessRequest, _rule: ApprovalRule) {
    return this.note('breakGlass', request);
  }
  async alertSecurity(text: string, request?: AccessRequest) {
    this.note('alertSecurity', request, text);
  }
  async onCallApproved(request: AccessRequest, why: string) {
    this.note('onCallApproved', request, why);
  }
  async breakGlassReviewed(request: AccessRequest) {
    this.note('breakGlassReviewed', request);
  }
  async expiryWarning(request: AccessRequest, allowance: ExtensionAllowance) {
    this.note('expiryWarning', request, JSON.stringify(allowance));
  }
  async extensionRequested(request: AccessRequest, _rule: ApprovalRule) {
    return this.note('extensionRequested', request);
  }
  async extensionChanged(request: AccessRequest, _extension: PendingExtension, note: string) {
    this.note('extensionChanged', request, note);
  }
}

/** Multi-account request groups in memory (the double of store/request-groups.ts). */
export class MemoryGroupStore implements RequestGroupStore {
  readonly groups = new Map<string, RequestGroup>();
  async create(group: RequestGroup): Promise<boolean> {
    if (this.groups.has(group.id)) return false;
    this.groups.set(group.id, structuredClone(group));
    return true;
  }
  async get(id: string): Promise<RequestGroup | undefined> {
    const group = this.groups.get(id);
    return group && structuredClone(group);
  }
  async setMessage(id: string, message: { channel: string; ts: string }): Promise<void> {
    const group = this.groups.get(id);
    if (group) group.message = message;
  }
  private readonly grantingAt = new Map<string, number>();
  async claimGrant(id: string, at: number, takeOverBefore?: number): Promise<boolean> {
    if (!this.groups.has(id)) return false;
    const held = this.grantingAt.get(id);
    if (held !== undefined && (takeOverBefore === undefined || held > takeOverBefore)) return false;
    this.grantingAt.set(id, at);
    return true;
  }
}

/** Records the group's one approvers' message, its redraws and its one grants DM. */
export class RecordingGroupNotifier implements GroupNotifier {
  readonly posted: GroupView[] = [];
  readonly changes: Array<{ view: GroupView; note?: string }> = [];
  readonly deliveries: Array<{ groupId: string; requestIds: string[] }> = [];
  async groupApprovalRequested(view: GroupView, _rule: ApprovalRule) {
    this.posted.push(view);
    return { channel: 'C-APPROVALS', ts: `g${this.posted.length}.000` };
  }
  async groupChanged(view: GroupView, note?: string) {
    this.changes.push({ view, ...(note ? { note } : {}) });
  }
  async groupDelivered(
    view: GroupView,
    grants: ReadonlyArray<{ request: AccessRequest; delivery: Delivery }>,
  ) {
    this.deliveries.push({ groupId: view.group.id, requestIds: grants.map((g) => g.request.id) });
  }
}

export class HmacSigner implements RecordSigner {
  constructor(private readonly key = 'unit-test-key') {}
  sign(content: string): string {
    return createHmac('sha256', this.key).update(content).digest('hex');
  }
  verify(content: string, signature: string | undefined): boolean {
    if (!signature) return false;
    const expected = Buffer.from(this.sign(content));
    const given = Buffer.from(signature);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}

// ── a small world ──────────────────────────────────────────────────────────

export const SANDBOX: Account = { id: '222222222222', name: 'sandbox', aliases: [], ouPath: [] };
export const PROD: Account = { id: '111111111111', name: 'production', aliases: ['prod'], ouPath: [] };
/** No default rule covers it. */
export const STAGING: Account = { id: '333333333333', name: 'staging', aliases: [], ouPath: [] };

export const READONLY: TemplateInfo = {
  name: 'readonly',
  description: 'read-only access',
  defaultDurationSeconds: 3600,
  maxDurationSeconds: 4 * 3600,
  maxTotalSeconds: 8 * 3600,
  maxExtensions: 2,
  requiresMfa: false,
  breakGlass: false,
  summary: { services: [], flags: [] },
};
export const BREAKGLASS: TemplateInfo = { ...READONLY, name: 'admin-breakglass', breakGlass: true };

/** alice asks; bob, carol and dave approve (group S-APPROVERS); erin is in security-oncall. */
export const ALICE = 'U-ALICE';
export const BOB = 'U-BOB';
export const CAROL = 'U-CAROL';
export const DAVE = 'U-DAVE';
export const ERIN = 'U-ERIN';
export const APPROVERS = 'S-APPROVERS';
export const ONCALL = 'S-ONCALL';
export const ADMINS = 'S-ADMINS';

export function defaultRules(): ApprovalRule[] {
  return [
    testRule({ name: 'sandbox-auto', match: { accounts: [SANDBOX.id] }, autoApprove: true }),
    testRule({
      name: 'production',
      match: { accounts: [PROD.id] },
      approvers: { users: [], groups: [APPROVERS] },
      approvalsRequired: 2,
      reason: { required: true },
      breakGlass: { templates: [BREAKGLASS.name], requesterGroups: [ONCALL] },
    }),
  ];
}

export interface RequestWorld {
  service: RequestService;
  store: MemoryRequestStore;
  audit: MemoryAuditLog;
  grants: RecordingGrantEngine;
  people: MemoryPeople;
  scheduler: RecordingScheduler;
  notifier: RecordingNotifier;
  groups: MemoryGroupStore;
  groupNotifier: RecordingGroupNotifier;
  clock: ManualClock;
  settings: RequestSettings;
  errors: Array<{ error: unknown; context: string }>;
}

export function requestWorld(
  options: {
    rules?: ApprovalRule[];
    maxOpenPerRequester?: number;
    adjust?: (s: RequestSettings) => void;
  } = {},
): RequestWorld {
  const clock = new ManualClock();
  const store = new MemoryRequestStore(clock, { maxOpenPerRequester: options.maxOpenPerRequester });
  const audit = new MemoryAuditLog();
  const grants = new RecordingGrantEngine();
  const people = new MemoryPeople()
    .add({ id: ALICE, name: 'alice', email: 'alice@corp.example' }, [ONCALL])
    .add({ id: BOB, name: 'bob', email: 'bob@corp.example' }, [APPROVERS, ADMINS])
    .add({ id: CAROL, name: 'carol', email: 'carol@corp.example' }, [APPROVERS])
    .add({ id: DAVE, name: 'dave', email: 'dave@corp.example' }, [APPROVERS])
    .add({ id: ERIN, name: 'erin', email: 'erin@corp.example' });
  const scheduler = new RecordingScheduler();
  const notifier = new RecordingNotifier();
  const groups = new MemoryGroupStore();
  const groupNotifier = new RecordingGroupNotifier();
  const settings: RequestSettings = {
    rules: options.rules ?? defaultRules(),
    limits: { min: 900, max: 12 * 3600, maxExtensions: 3, maxTotal: 24 * 3600, expiryWarning: 600 },
    identities: {
      map: Object.fromEntries(
        [ALICE, BOB, CAROL, DAVE, ERIN].map((id) => [
          id,
          { principal: `arn:aws:iam::999999999999:user/${id.slice(2).toLowerCase()}` },
        ]),
      ),
      byEmail: { enabled: false, principalTemplate: '' },
    },
    requesterGroups: [],
    adminGroups: [ADMINS],
  };
  options.adjust?.(settings);
  const errors: RequestWorld['errors'] = [];
  let ids = 0;
  const service = new RequestService({
    store,
    audit,
    grants,
    accounts: staticAccountDirectory([
      { id: SANDBOX.id, name: SANDBOX.name },
      { id: PROD.id, name: PROD.name, aliases: PROD.aliases },
      { id: STAGING.id, name: STAGING.name },
    ]),
    templates: staticTemplateCatalog([READONLY, BREAKGLASS]),
    people,
    scheduler,
    notifier,
    groups,
    groupNotifier,
    signer: new HmacSigner(),
    clock,
    newId: () => `r${String(++ids).padStart(4, '0')}`,
    settings,
    onError: (error, context) => errors.push({ error, context }),
  });
  return {
    service,
    store,
    audit,
    grants,
    people,
    scheduler,
    notifier,
    groups,
    groupNotifier,
    clock,
    settings,
    errors,
  };
}

/** Opens a request that must pass: production readonly for an hour unless `draft` says otherwise. */
export async function ask(
  world: RequestWorld,
  draft: Partial<{
    requesterId: string;
    account: string;
    template: string;
    durationSeconds: number;
    reason: string;
  }> = {},
): Promise<AccessRequest> {
  const result = await world.service.submit({
    requesterId: ALICE,
    account: PROD.id,
    template: READONLY.name,
    durationSeconds: 3600,
    reason: 'INC-1234 investigating',
    ...draft,
  });
  if (!result.ok)
    throw new Error(`the request was refused: ${result.refusals.map((r) => r.message).join('; ')}`);
  return result.request;
}

/** A production grant, approved by bob and carol and active. */
export async function activeGrant(world: RequestWorld): Promise<AccessRequest> {
  const request = await ask(world);
  await world.service.approve(request.id, BOB);
  const result = await world.service.approve(request.id, CAROL);
  if (!result.ok || result.request.state !== 'active') throw new Error('the grant did not become active');
  return result.request;
}
