/**
 * Reads a CloudFormation YAML template (short-form intrinsics as custom tags) and resolves it
 * for given parameter values, as CloudFormation would at deploy time: Ref, Fn::Sub, Fn::If with
 * the template's Conditions, Fn::Equals/Not/And/Or, Fn::Join, Fn::Select, Fn::GetAtt and
 * AWS::NoValue. Resource attributes resolve to plausible ARNs so policies can be simulated.
 */
import { readFileSync } from 'node:fs';
import { parse, type Tags } from 'yaml';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const INTRINSICS: Record<string, string> = {
  '!Ref': 'Ref',
  '!Condition': 'Condition',
  '!Sub': 'Fn::Sub',
  '!GetAtt': 'Fn::GetAtt',
  '!If': 'Fn::If',
  '!Equals': 'Fn::Equals',
  '!Not': 'Fn::Not',
  '!And': 'Fn::And',
  '!Or': 'Fn::Or',
  '!Join': 'Fn::Join',
  '!Select': 'Fn::Select',
  '!Split': 'Fn::Split',
  '!FindInMap': 'Fn::FindInMap',
  '!Base64': 'Fn::Base64',
  '!GetAZs': 'Fn::GetAZs',
  '!ImportValue': 'Fn::ImportValue',
  '!Cidr': 'Fn::Cidr',
};

const customTags: Tags = Object.entries(INTRINSICS).flatMap(([tag, name]) => [
  {
    tag,
    resolve: (value: string) => (name === 'Fn::GetAtt' ? { [name]: value.split('.') } : { [name]: value }),
  },
  { tag, collection: 'seq' as const, resolve: (seq: { toJSON(): unknown }) => ({ [name]: seq.toJSON() }) },
  { tag, collection: 'map' as const, resolve: (map: { toJSON(): unknown }) => ({ [name]: map.toJSON() }) },
]);

export interface CfnTemplate {
  Parameters?: Record<
    string,
    { Type: string; Default?: string; AllowedPattern?: string; AllowedValues?: string[] }
  >;
  Conditions?: Record<string, Json>;
  Resources: Record<string, { Type: string; Condition?: string; Properties: Record<string, Json> }>;
  Outputs?: Record<string, Json>;
}

export function readCfnTemplate(path: string): CfnTemplate {
  return parse(readFileSync(path, 'utf8'), { customTags }) as CfnTemplate;
}

export interface ResolveContext {
  parameters: Record<string, string>;
  accountId: string;
  region?: string;
  partition?: string;
}

const NO_VALUE = Symbol('AWS::NoValue');

export class CfnResolver {
  private readonly conditions = new Map<string, boolean>();
  private readonly lists: Record<string, string[]> = {};
  readonly refs: Record<string, string>;

  constructor(
    private readonly template: CfnTemplate,
    private readonly context: ResolveContext,
  ) {
    const params: Record<string, string> = {};
    for (const [name, p] of Object.entries(template.Parameters ?? {})) {
      const value = context.parameters[name] ?? p.Default;
      if (value === undefined) throw new Error(`parameter ${name} has no value and no default`);
      const list = p.Type === 'CommaDelimitedList';
      if (p.AllowedPattern && !new RegExp(p.AllowedPattern).test(value))
        throw new Error(`parameter ${name}="${value}" does not match ${p.AllowedPattern}`);
      if (list) {
        // Ref of a CommaDelimitedList is the list; kept aside so Fn::Sub cannot use it.
        this.lists[name] = value.split(',').map((v) => v.trim());
        continue;
      }
      if (p.AllowedValues && !p.AllowedValues.includes(value))
        throw new Error(`parameter ${name}="${value}" is not one of ${p.AllowedValues.join(', ')}`);
      params[name] = value;
    }
    for (const name of Object.keys(context.parameters)) {
      if (!(name in params) && !(name in this.lists)) throw new Error(`unknown parameter ${name}`);
    }
    this.refs = {
      ...params,
      'AWS::AccountId': context.accountId,
      'AWS::Region': context.region ?? 'us-east-1',
      'AWS::Partition': context.partition ?? 'aws',
      'AWS::StackName': 'aws-access-test',
      'AWS::URLSuffix': 'amazonaws.com',
    };
  }

  condition(name: string): boolean {
    if (!this.conditions.has(name)) {
      const expr = this.template.Conditions?.[name];
      if (expr === undefined) throw new Error(`unknown condition ${name}`);
      this.conditions.set(name, this.resolve(expr) as unknown as boolean);
    }
    return this.conditions.get(name)!;
  }

  /** Physical id (Ref) and attributes (GetAtt) of a resource. */
  private resourceRef(logicalId: string, attribute?: string): string {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`unknown resource ${logicalId}`);
    const props = resource.Properties;
    const { accountId } = this.context;
    const partition = this.refs['AWS::Partition'];
    const name = (key: string) => (props[key] ? String(this.resolve(props[key]!)) : logicalId);
    switch (resource.Type) {
      case 'AWS::IAM::Role':
        if (attribute === 'Arn')
          return `arn:${partition}:iam::${accountId}:role${props.Path ?? '/'}${name('RoleName')}`;
        return name('RoleName');
      case 'AWS::IAM::ManagedPolicy':
        return `arn:${partition}:iam::${accountId}:policy${props.Path ?? '/'}${name('ManagedPolicyName')}`;
      default:
        throw new Error(`no test value for ${resource.Type}`);
    }
  }

  private sub(text: string, vars: Record<string, Json> = {}): string {
    return text.replace(/\$\{(!?)([^}]+)\}/g, (whole, bang: string, key: string) => {
      if (bang) return `\${${key}}`;
      if (key in vars) return String(this.resolve(vars[key]!));
      if (key in this.refs) return this.refs[key]!;
      if (key.includes('.')) {
        const [id, attr] = key.split('.');
        return this.resourceRef(id!, attr);
      }
      if (key in this.template.Resources) return this.resourceRef(key);
      throw new Error(`Fn::Sub: unknown variable \${${key}} in "${text.slice(0, 60)}"`);
    });
  }

  resolve(node: Json): Json {
    const out = this.resolveInner(node);
    return out === (NO_VALUE as unknown) ? null : out;
  }

  private resolveInner(node: Json): Json {
    if (Array.isArray(node)) {
      return node.map((n) => this.resolveInner(n)).filter((n) => n !== (NO_VALUE as unknown));
    }
    if (node === null || typeof node !== 'object') return node;
    const keys = Object.keys(node);
    if (keys.length === 1) {
      const [key] = keys as [string];
      const arg = node[key]!;
      switch (key) {
        case 'Ref': {
          const name = arg as string;
          if (name === 'AWS::NoValue') return NO_VALUE as unknown as Json;
          if (name in this.lists) return this.lists[name]!;
          if (name in this.refs) return this.refs[name]!;
          return this.resourceRef(name);
        }
        case 'Condition':
          return this.condition(arg as string);
        case 'Fn::Sub':
          if (typeof arg === 'string') return this.sub(arg);
          return this.sub((arg as Json[])[0] as string, (arg as Json[])[1] as Record<string, Json>);
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(arg) ? (arg as string[]) : (arg as string).split('.');
          return this.resourceRef(id!, attr);
        }
        case 'Fn::If': {
          const [cond, then, otherwise] = arg as [string, Json, Json];
          return this.resolveInner(this.condition(cond) ? then : otherwise);
        }
        case 'Fn::Equals': {
          const [a, b] = (arg as Json[]).map((x) => this.resolve(x));
          return a === b;
        }
        case 'Fn::Not':
          return !this.resolve((arg as Json[])[0]!);
        case 'Fn::And':
          return (arg as Json[]).every((x) => this.resolve(x) === true);
        case 'Fn::Or':
          return (arg as Json[]).some((x) => this.resolve(x) === true);
        case 'Fn::Join': {
          const [sep, parts] = arg as [string, Json[]];
          return (this.resolve(parts) as Json[]).join(sep);
        }
        case 'Fn::Select': {
          const [index, list] = arg as [Json, Json];
          return (this.resolve(list) as Json[])[Number(this.resolve(index))]!;
        }
        case 'Fn::Split': {
          const [sep, text] = arg as [string, Json];
          return String(this.resolve(text)).split(sep);
        }
        default:
          if (key.startsWith('Fn::')) throw new Error(`${key} is not supported by the test resolver`);
      }
    }
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(node)) {
      const resolved = this.resolveInner(v);
      if (resolved !== (NO_VALUE as unknown)) out[k] = resolved;
    }
    return out;
  }

  /** A resource's resolved properties; undefined when its Condition is false. */
  resource(logicalId: string): Record<string, Json> | undefined {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`unknown resource ${logicalId}`);
    if (resource.Condition && !this.condition(resource.Condition)) return undefined;
    return this.resolve(resource.Properties) as Record<string, Json>;
  }
}

/** A policy document that may arrive as a JSON string (Fn::Sub of a JSON block) or an object. */
export function policyDocument(value: Json | undefined): {
  Version: string;
  Statement: Array<Record<string, Json>>;
} {
  if (value === undefined) throw new Error('no policy document');
  return (typeof value === 'string' ? JSON.parse(value) : value) as {
    Version: string;
    Statement: Array<Record<string, Json>>;
  };
}
