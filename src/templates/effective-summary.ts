/**
 * A template's access-level summary after the service control policies (SCPs) on an account's
 * path: root, every OU, the account. The template side is the access summary's own action set
 * (access-summary.ts: boundary ∩ granted − unconditional denies); the SCP side is decided by
 * @cloud-copilot/iam-simulate, the evaluator the project already trusts, with its SCP semantics:
 * at every level some SCP must Allow the action, and no SCP anywhere may Deny it.
 *
 * Same reading of conditions and resources as the template summary, so the result stays an upper
 * bound and never under-states what approvers grant: an SCP Allow counts even when it carries a
 * condition or a narrow resource (its Condition is dropped and its Resource read as `*`); an SCP
 * Deny only removes an action when it is unconditional on every resource. Denies that are not
 * counted (e.g. the usual region restriction, a Deny with `aws:RequestedRegion`) are listed in
 * `notes`, so approvers know the SCPs may take away more.
 *
 * Speed: the simulator is asked once per class of actions that the SCP statements cannot tell
 * apart (the same set of statements matches every action of the class), with one representative
 * action, not once per action: an `Action: *` template has about 22,000 actions but a handful of
 * classes. docs/aws-grants.md gives the measured times for the shipped templates.
 */
import { getDenialReasons, runSimulation, type RequestDenial } from '@cloud-copilot/iam-simulate';
import type { EffectiveAccess, ScpRemoval, ServiceChange } from '../domain/effective-access.js';
import type { AccessLevel, ServiceAccessSummary } from '../domain/ports.js';
import { effectiveActions, summarizeActions, type SummaryInput } from './access-summary.js';
import { expandActionPattern, type IamActionCatalog } from './iam-action-catalog.js';

export interface ScpPolicy {
  /** The policy id, e.g. `p-FullAWSAccess`. */
  id: string;
  name: string;
  /** The policy document as Organizations returns it (parsed JSON). */
  document: unknown;
}

/** One level of the path: the root, an OU or the account, with the SCPs attached to it. */
export interface ScpLevel {
  targetId: string;
  /** As approvers read it: `root`, `OU Workloads`, `account prod`. */
  label: string;
  policies: ScpPolicy[];
}

type Statement = {
  Effect?: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: unknown;
  [key: string]: unknown;
};

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

function statementsOf(document: unknown): Statement[] {
  const s = (document as { Statement?: Statement | Statement[] } | undefined)?.Statement;
  return s === undefined ? [] : Array.isArray(s) ? s : [s];
}

/**
 * The statements as they are evaluated (see the module comment): Allows without Condition and on
 * `*`, Denies only when unconditional on every resource. Returns the dropped Denies' count.
 */
function counted(document: unknown): { statements: Statement[]; droppedDenies: number } {
  const statements: Statement[] = [];
  let droppedDenies = 0;
  for (const s of statementsOf(document)) {
    // Only what decides on an action: Effect and Action or NotAction, on every resource.
    const kept: Statement = {
      Effect: s.Effect,
      ...(s.Action !== undefined ? { Action: s.Action } : { NotAction: s.NotAction }),
      Resource: '*',
    };
    const everywhere = s.NotResource === undefined && list(s.Resource).includes('*');
    if (s.Effect === 'Allow') statements.push(kept);
    else if (s.Effect === 'Deny' && s.Condition === undefined && everywhere) statements.push(kept);
    else if (s.Effect === 'Deny') droppedDenies += 1;
  }
  return { statements, droppedDenies };
}

/** Which statement matches which action: the set of matched keys, or its complement (NotAction). */
function matcher(catalog: IamActionCatalog, s: Statement): (key: string) => boolean {
  const keys = new Set<string>();
  for (const pattern of list(s.Action ?? s.NotAction)) {
    const r = expandActionPattern(catalog, pattern);
    if ('keys' in r) r.keys.forEach((k) => keys.add(k));
  }
  return s.Action !== undefined ? (key) => keys.has(key) : (key) => !keys.has(key);
}

/** The simulator's reasons an action is not allowed: explicit SCP denies and bare levels. */
function scpDenials(result: Awaited<ReturnType<typeof runSimulation>>): RequestDenial[] {
  if (result.resultType === 'error') return [];
  const analyses = result.resultType === 'single' ? [result.result] : result.results;
  return analyses.flatMap((r) => getDenialReasons(r.analysis)).filter((d) => d.policyType === 'scp');
}

export class ScpSimulationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScpSimulationError';
  }
}

/**
 * The template's effective access under `levels` (root first, the account last). Throws
 * ScpSimulationError when the simulator refuses an SCP document (never guessed around).
 */
export async function evaluateWithScps(
  catalog: IamActionCatalog,
  input: SummaryInput,
  levels: ScpLevel[],
  accountId: string,
): Promise<EffectiveAccess> {
  const { actions, unmodelled } = effectiveActions(catalog, input);
  const notes: string[] = [];
  const policyById = new Map<string, { name: string; level: ScpLevel }>();
  const matchers: Array<(key: string) => boolean> = [];
  const serviceControlPolicies = levels.map((level) => ({
    orgIdentifier: level.targetId,
    policies: level.policies.map((p) => {
      const { statements, droppedDenies } = counted(p.document);
      policyById.set(p.id, { name: p.name, level });
      statements.forEach((s) => matchers.push(matcher(catalog, s)));
      if (droppedDenies > 0) {
        notes.push(
          `SCP ${p.name} (${level.label}) has ${droppedDenies} Deny statement${droppedDenies > 1 ? 's' : ''} with conditions or on specific resources, not counted here: it may remove more`,
        );
      }
      return { name: p.id, policy: { Version: '2012-10-17', Statement: statements } };
    }),
  }));

  // Classes of actions the statements cannot tell apart: one simulation each.
  const classes = new Map<string, string[]>();
  for (const key of actions) {
    const signature = matchers.map((m) => (m(key) ? '1' : '0')).join('');
    const members = classes.get(signature);
    if (members) members.push(key);
    else classes.set(signature, [key]);
  }

  const allowed = new Set<string>();
  const removals = new Map<
    string,
    { kind: ScpRemoval['kind']; name: string; level: string; keys: string[] }
  >();
  for (const members of classes.values()) {
    const action = catalog.actions.get(members[0]!)!.name;
    const result = await runSimulation(
      {
        request: {
          principal: `arn:aws:iam::${accountId}:role/aws-access/effective-access`,
          action,
          resource: { resource: '*', accountId },
          contextVariables: {},
        },
        identityPolicies: [
          {
            name: 'template',
            policy: {
              Version: '2012-10-17',
              Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }],
            },
          },
        ],
        serviceControlPolicies,
        resourceControlPolicies: [],
      },
      { simulationMode: 'Strict' },
    );
    if (result.resultType === 'error') {
      throw new ScpSimulationError(`the policy simulator refused an SCP document: ${result.errors.message}`);
    }
    if (result.overallResult === 'Allowed') {
      members.forEach((k) => allowed.add(k));
      continue;
    }
    for (const denial of scpDenials(result)) {
      const id = denial.denialType === 'Explicit' ? denial.policyIdentifier : denial.identifier;
      if (!id) continue;
      const key = `${denial.denialType}:${id}`;
      let removal = removals.get(key);
      if (!removal) {
        const level = levels.find((l) => l.targetId === id);
        removal =
          denial.denialType === 'Explicit'
            ? {
                kind: 'deny',
                name: policyById.get(id)?.name ?? id,
                level: policyById.get(id)?.level.label ?? '',
                keys: [],
              }
            : {
                kind: 'allow-list',
                name: level?.policies.map((p) => p.name).join(' + ') || 'no SCP attached',
                level: level?.label ?? id,
                keys: [],
              };
        removals.set(key, removal);
      }
      removal.keys.push(...members);
    }
  }

  const summary = summarizeActions(catalog, allowed, unmodelled);
  const changes = changesOf(summarizeActions(catalog, actions).services, summary.services);
  const top = [...removals.values()].sort(
    (a, b) =>
      b.keys.length - a.keys.length ||
      (a.kind === b.kind ? 0 : a.kind === 'deny' ? -1 : 1) ||
      a.name.localeCompare(b.name),
  )[0];
  return {
    asked: actions.size,
    allowed: allowed.size,
    summary,
    ...(top ? { deniedBy: describeRemoval(catalog, actions, top) } : {}),
    ...(notes.length ? { notes } : {}),
    ...(changes.length ? { changes } : {}),
  };
}

/** The services whose counts the SCPs lowered, most removed first. */
function changesOf(before: ServiceAccessSummary[], after: ServiceAccessSummary[]): ServiceChange[] {
  const afterBy = new Map(after.map((s) => [s.service, s.counts]));
  const sum = (c: Record<AccessLevel, number>) => Object.values(c).reduce((n, v) => n + v, 0);
  return before
    .map((b) => {
      const a =
        afterBy.get(b.service) ??
        ({ List: 0, Read: 0, Write: 0, 'Permissions management': 0, Tagging: 0 } as Record<
          AccessLevel,
          number
        >);
      return { service: b.service, before: b.counts, after: a, removed: sum(b.counts) - sum(a) };
    })
    .filter((c) => c.removed > 0)
    .sort((x, y) => y.removed - x.removed || x.service.localeCompare(y.service))
    .map(({ service, before: b, after: a }) => ({ service, before: b, after: a }));
}

function describeRemoval(
  catalog: IamActionCatalog,
  asked: ReadonlySet<string>,
  removal: { kind: ScpRemoval['kind']; name: string; level: string; keys: string[] },
): ScpRemoval {
  const removed = new Set(removal.keys);
  const count = (keys: Iterable<string>) => {
    const byLevel = new Map<AccessLevel, Map<string, number>>();
    for (const key of keys) {
      const a = catalog.actions.get(key)!;
      const services = byLevel.get(a.level) ?? new Map<string, number>();
      services.set(a.service, (services.get(a.service) ?? 0) + 1);
      byLevel.set(a.level, services);
    }
    return byLevel;
  };
  const removedBy = count(removed);
  const askedBy = count(asked);
  const total = (m: Map<string, number>) => [...m.values()].reduce((n, v) => n + v, 0);
  const [mainLevel, services] = [...removedBy.entries()].sort((a, b) => total(b[1]) - total(a[1]))[0]!;
  const ranked = [...services.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const removesAllOfLevel = ranked.every(([s, n]) => askedBy.get(mainLevel)?.get(s) === n);
  return {
    scpName: removal.name,
    kind: removal.kind,
    level: removal.level,
    removed: removed.size,
    services: ranked.slice(0, 5).map(([s]) => s),
    mainLevel,
    removesAllOfLevel,
  };
}
