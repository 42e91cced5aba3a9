/**
 * The AWS API actions the code calls, derived from the source: every `new XCommand(` whose
 * `XCommand` is imported from @aws-sdk/client-iam, -sts or -organizations becomes `iam:X`,
 * `sts:X` or `organizations:X`, plus the actions IAM checks implicitly for the parameters used
 * (tags at creation, source identity and session tags on AssumeRole).
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { listSourceFiles } from './slack-scopes.js';

const SERVICES: Record<string, string> = {
  '@aws-sdk/client-iam': 'iam',
  '@aws-sdk/client-sts': 'sts',
  '@aws-sdk/client-organizations': 'organizations',
};

/** Extra actions IAM authorizes when a call carries these parameters. */
const IMPLIED: Array<{ action: string; parameter: RegExp; implies: string }> = [
  { action: 'iam:CreateRole', parameter: /\bTags\s*:/, implies: 'iam:TagRole' },
  { action: 'iam:CreatePolicy', parameter: /\bTags\s*:/, implies: 'iam:TagPolicy' },
  { action: 'sts:AssumeRole', parameter: /\bTags\s*:/, implies: 'sts:TagSession' },
  { action: 'sts:AssumeRole', parameter: /\bSourceIdentity\s*:/, implies: 'sts:SetSourceIdentity' },
];

/** The text between an opening parenthesis (just before `start`) and its closing one. */
function balancedArguments(source: string, start: number): string {
  let depth = 1;
  for (let i = start; i < source.length; i++) {
    if (source[i] === '(') depth++;
    else if (source[i] === ')' && --depth === 0) return source.slice(start, i);
  }
  return source.slice(start);
}

export function findAwsActions(source: string): Set<string> {
  const commands = new Map<string, string>();
  for (const m of source.matchAll(/import\s*(?!type\b)\{([^}]*)\}\s*from\s*'(@aws-sdk\/client-[a-z]+)'/g)) {
    const service = SERVICES[m[2]!];
    if (!service) continue;
    for (const raw of m[1]!.split(',')) {
      const name = raw.trim();
      if (/^[A-Z]\w*Command$/.test(name)) commands.set(name, service);
    }
  }
  const actions = new Set<string>();
  for (const m of source.matchAll(/new\s+([A-Z]\w*Command)\s*\(/g)) {
    const service = commands.get(m[1]!);
    if (!service) continue;
    const action = `${service}:${m[1]!.replace(/Command$/, '')}`;
    actions.add(action);
    const args = balancedArguments(source, m.index! + m[0].length);
    for (const rule of IMPLIED) {
      if (rule.action === action && rule.parameter.test(args)) actions.add(rule.implies);
    }
  }
  return actions;
}

export function scanAwsActions(srcDir: string): Map<string, string[]> {
  const where = new Map<string, string[]>();
  for (const file of listSourceFiles(srcDir)) {
    for (const action of findAwsActions(readFileSync(file, 'utf8'))) {
      where.set(action, [...(where.get(action) ?? []), relative(srcDir, file)]);
    }
  }
  return where;
}

/** Whether an IAM `Action` pattern (with * and ?) matches an action, case-insensitively. */
export function actionMatches(pattern: string, action: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return re.test(action);
}

/** Actions named by the Allow statements of a policy document. */
export function allowedActionPatterns(policy: { Statement: Array<Record<string, unknown>> }): string[] {
  return policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) =>
    Array.isArray(s.Action) ? (s.Action as string[]) : [s.Action as string],
  );
}
