/**
 * What a template lets its holder do, per service and access level, as approvers see it.
 *
 * Action-level computation (no resources, no conditions):
 *   effective = allowed(boundary) ∩ allowed(granted) − denied(boundary) − denied(granted)
 * where `granted` is the inline policy plus the managed policies. An Allow counts even when
 * it carries a condition or a narrow resource (the action may be allowed); a Deny only removes
 * an action when it is unconditional on every resource (otherwise the action may still be
 * allowed somewhere). The result is therefore an upper bound, never an under-statement.
 *
 * AWS managed policies are not in iam-data; common ones are modelled in
 * aws-managed-policies.ts, and any other managed policy counts as "anything the boundary allows"
 * with a flag saying so.
 */
import type { AccessLevel, AccessLevelSummary, ServiceAccessSummary } from '../domain/ports.js';
import { modelManagedPolicy } from './aws-managed-policies.js';
import { expandActionPattern, type IamActionCatalog } from './iam-action-catalog.js';
import { asList, statementsOf, type PolicyDocument } from './policy-document.js';

const LEVELS: AccessLevel[] = ['List', 'Read', 'Write', 'Permissions management', 'Tagging'];

function expand(catalog: IamActionCatalog, patterns: string[]): Set<string> {
  const out = new Set<string>();
  for (const pattern of patterns) {
    const result = expandActionPattern(catalog, pattern);
    if ('keys' in result) result.keys.forEach((k) => out.add(k));
  }
  return out;
}

function complement(catalog: IamActionCatalog, set: Set<string>): Set<string> {
  const out = new Set<string>();
  for (const key of catalog.actions.keys()) if (!set.has(key)) out.add(key);
  return out;
}

function statementActions(
  catalog: IamActionCatalog,
  s: { Action?: string | string[]; NotAction?: string | string[] },
) {
  return s.Action !== undefined
    ? expand(catalog, asList(s.Action))
    : complement(catalog, expand(catalog, asList(s.NotAction)));
}

export function allowedActions(catalog: IamActionCatalog, policy: PolicyDocument): Set<string> {
  const out = new Set<string>();
  for (const s of statementsOf(policy)) {
    if (s.Effect === 'Allow') statementActions(catalog, s).forEach((k) => out.add(k));
  }
  return out;
}

/** Actions denied outright: unconditional Deny statements on every resource. */
export function deniedActions(catalog: IamActionCatalog, policy: PolicyDocument): Set<string> {
  const out = new Set<string>();
  for (const s of statementsOf(policy)) {
    const everywhere = s.NotResource === undefined && asList(s.Resource).includes('*');
    if (s.Effect === 'Deny' && everywhere && !s.Condition) {
      statementActions(catalog, s).forEach((k) => out.add(k));
    }
  }
  return out;
}

export interface SummaryInput {
  /** Rendered boundary (guard included). */
  boundary: PolicyDocument;
  inlinePolicy?: PolicyDocument;
  managedPolicyArns: string[];
}

/** The set of lower-case `service:action` keys a template may allow (see the module comment). */
export function effectiveActions(
  catalog: IamActionCatalog,
  input: SummaryInput,
): { actions: Set<string>; unmodelled: string[] } {
  const boundaryAllowed = allowedActions(catalog, input.boundary);
  const denied = deniedActions(catalog, input.boundary);
  let granted = new Set<string>();
  const unmodelled: string[] = [];
  if (input.inlinePolicy) {
    granted = allowedActions(catalog, input.inlinePolicy);
    deniedActions(catalog, input.inlinePolicy).forEach((k) => denied.add(k));
  }
  for (const arn of input.managedPolicyArns) {
    const modelled = modelManagedPolicy(catalog, arn);
    if (modelled) modelled.forEach((k) => granted.add(k));
    else {
      unmodelled.push(arn);
      granted = new Set([...granted, ...boundaryAllowed]);
    }
  }
  const actions = new Set<string>();
  for (const key of granted) if (boundaryAllowed.has(key) && !denied.has(key)) actions.add(key);
  return { actions, unmodelled };
}

export function summarizeAccess(catalog: IamActionCatalog, input: SummaryInput): AccessLevelSummary {
  const { actions, unmodelled } = effectiveActions(catalog, input);
  return summarizeActions(catalog, actions, unmodelled);
}

/** The summary of a set of actions (a template's, or what SCPs leave of it: effective-summary.ts). */
export function summarizeActions(
  catalog: IamActionCatalog,
  actions: ReadonlySet<string>,
  unmodelled: readonly string[] = [],
): AccessLevelSummary {
  const byService = new Map<string, Record<AccessLevel, number>>();
  for (const key of actions) {
    const action = catalog.actions.get(key)!;
    let counts = byService.get(action.service);
    if (!counts) {
      counts = Object.fromEntries(LEVELS.map((l) => [l, 0])) as Record<AccessLevel, number>;
      byService.set(action.service, counts);
    }
    counts[action.level] += 1;
  }
  const services: ServiceAccessSummary[] = [...byService.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([service, counts]) => ({ service, counts }));
  const flags: string[] = [];
  // One line however many services, largest first, iam always named: approvers skim this.
  const permissionServices = services
    .filter((s) => s.counts['Permissions management'] > 0)
    .sort((a, b) => b.counts['Permissions management'] - a.counts['Permissions management']);
  if (permissionServices.length) {
    const named = permissionServices.slice(0, 5);
    const iam = permissionServices.find((s) => s.service === 'iam');
    if (iam && !named.includes(iam)) named.push(iam);
    const total = permissionServices.reduce((n, s) => n + s.counts['Permissions management'], 0);
    const rest = permissionServices.length - named.length;
    flags.push(
      `Permissions management: ${total} actions on ${permissionServices.length} services (${named
        .map((s) => `${s.service} ${s.counts['Permissions management']}`)
        .join(', ')}${rest > 0 ? `, ${rest} more` : ''})`,
    );
  }
  if (actions.has('iam:passrole')) flags.push('iam:PassRole');
  for (const arn of unmodelled) {
    flags.push(`${arn} is counted as anything the boundary allows (its contents are not known offline)`);
  }
  return { services, flags };
}

/** Services listed one per line; past this, the riskiest are listed and the rest counted. */
export const MAX_LISTED_SERVICES = 20;

function risk(s: AccessLevelSummary['services'][number]): number {
  return (
    s.counts['Permissions management'] * 1000 +
    s.counts.Write * 10 +
    s.counts.Tagging +
    s.counts.Read +
    s.counts.List
  );
}

/** One line per service for the CLI: `s3  List 5  Read 20  Write 0  …`. */
export function formatSummary(summary: AccessLevelSummary): string[] {
  const listed =
    summary.services.length > MAX_LISTED_SERVICES
      ? [...summary.services].sort((a, b) => risk(b) - risk(a)).slice(0, MAX_LISTED_SERVICES)
      : summary.services;
  const lines = listed.map((s) => {
    const counts = LEVELS.map((l) => `${l} ${s.counts[l]}`).join(', ');
    return `    ${s.service}: ${counts}`;
  });
  const totals = Object.fromEntries(LEVELS.map((l) => [l, 0])) as Record<AccessLevel, number>;
  for (const s of summary.services) for (const l of LEVELS) totals[l] += s.counts[l];
  const head = `  ${summary.services.length} services; ${LEVELS.map((l) => `${l} ${totals[l]}`).join(', ')}`;
  const more =
    summary.services.length > listed.length
      ? [`    … and ${summary.services.length - listed.length} more services (riskiest listed first)`]
      : [];
  return [head, ...lines, ...more, ...summary.flags.map((f) => `  ! ${f}`)];
}
