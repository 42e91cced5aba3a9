/**
 * A small interpreter for the part of Go text/template and Sprig that the Helm chart uses, so
 * tests can render the chart without a helm binary: actions with `{{-`/`-}}` trimming, comments,
 * if/else if/else, range (lists and maps, with `$k, $v :=`), with, define/include, variables,
 * pipelines, and the functions listed in FUNCTIONS. Anything else throws, so a template that
 * starts using an unsupported feature fails the test loudly instead of rendering wrongly.
 */
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';

type Value = unknown;

interface TextNode {
  kind: 'text';
  text: string;
}
interface ActionNode {
  kind: 'action';
  pipe: Pipeline;
}
interface IfNode {
  kind: 'if' | 'with';
  branches: Array<{ pipe: Pipeline; body: Node[] }>;
  otherwise: Node[];
}
interface RangeNode {
  kind: 'range';
  pipe: Pipeline;
  body: Node[];
  otherwise: Node[];
}
type Node = TextNode | ActionNode | IfNode | RangeNode;

interface Pipeline {
  decl?: { names: string[]; assign: boolean };
  commands: Operand[][];
}
type Operand =
  | { t: 'lit'; v: Value }
  | { t: 'field'; base: string | null; path: string[] } // base: null = dot, '$x' = variable
  | { t: 'ident'; name: string }
  | { t: 'sub'; pipe: Pipeline };

// ---------- lexing ----------

interface RawToken {
  kind: 'text' | 'action';
  text: string;
}

function lex(source: string): RawToken[] {
  const tokens: RawToken[] = [];
  const re = /\{\{(- )?([\s\S]*?)( -)?\}\}/g;
  let last = 0;
  let trimNext = false;
  for (const m of source.matchAll(re)) {
    let text = source.slice(last, m.index);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (m[1]) text = text.replace(/\s+$/, '');
    tokens.push({ kind: 'text', text });
    tokens.push({ kind: 'action', text: m[2]!.trim() });
    trimNext = Boolean(m[3]);
    last = m.index! + m[0].length;
  }
  let rest = source.slice(last);
  if (trimNext) rest = rest.replace(/^\s+/, '');
  tokens.push({ kind: 'text', text: rest });
  return tokens.filter(
    (t) => !(t.kind === 'text' && t.text === '') && !(t.kind === 'action' && t.text.startsWith('/*')),
  );
}

function tokenizeExpr(src: string): string[] {
  const out: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|:=|=|\||\(|\)|,|[^\s|(),]+)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(src)) !== null) {
    if (m[1] === undefined) break;
    out.push(m[1]);
    if (re.lastIndex >= src.length) break;
  }
  return out;
}

// ---------- parsing ----------

function parsePipeline(src: string): Pipeline {
  const tokens = tokenizeExpr(src);
  let pos = 0;
  const pipeline: Pipeline = { commands: [] };
  const declIndex = tokens.findIndex((t) => t === ':=' || t === '=');
  if (declIndex > 0 && tokens.slice(0, declIndex).every((t) => t.startsWith('$') || t === ',')) {
    pipeline.decl = {
      names: tokens.slice(0, declIndex).filter((t) => t !== ','),
      assign: tokens[declIndex] === '=',
    };
    pos = declIndex + 1;
  }
  const parseCommands = (stopAtParen: boolean): Operand[][] => {
    const commands: Operand[][] = [[]];
    while (pos < tokens.length) {
      const tok = tokens[pos++]!;
      if (tok === ')') {
        if (!stopAtParen) throw new Error(`unexpected ) in "${src}"`);
        return commands;
      }
      if (tok === '|') {
        commands.push([]);
        continue;
      }
      commands.at(-1)!.push(parseOperand(tok));
    }
    if (stopAtParen) throw new Error(`missing ) in "${src}"`);
    return commands;
  };
  const parseOperand = (tok: string): Operand => {
    if (tok === '(') return { t: 'sub', pipe: { commands: parseCommands(true) } };
    if (tok.startsWith('"')) return { t: 'lit', v: JSON.parse(tok) };
    if (tok.startsWith('`')) return { t: 'lit', v: tok.slice(1, -1) };
    if (/^-?\d+(\.\d+)?$/.test(tok)) return { t: 'lit', v: Number(tok) };
    if (tok === 'true' || tok === 'false') return { t: 'lit', v: tok === 'true' };
    if (tok === 'nil') return { t: 'lit', v: null };
    if (tok === '.') return { t: 'field', base: null, path: [] };
    if (tok.startsWith('.')) return { t: 'field', base: null, path: tok.slice(1).split('.') };
    if (tok.startsWith('$')) {
      const [base, ...path] = tok.split('.');
      return { t: 'field', base: base!, path };
    }
    if (/^[A-Za-z_]\w*$/.test(tok)) return { t: 'ident', name: tok };
    throw new Error(`cannot parse "${tok}" in "${src}"`);
  };
  pipeline.commands = parseCommands(false);
  return pipeline;
}

export interface ParsedTemplates {
  main: Node[];
  defines: Map<string, Node[]>;
}

function parse(tokens: RawToken[], defines: Map<string, Node[]>): Node[] {
  let pos = 0;
  const parseList = (stop: RegExp): { nodes: Node[]; end: string } => {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const tok = tokens[pos++]!;
      if (tok.kind === 'text') {
        nodes.push({ kind: 'text', text: tok.text });
        continue;
      }
      const a = tok.text;
      if (stop.test(a)) return { nodes, end: a };
      let m: RegExpExecArray | null;
      if ((m = /^define\s+"([^"]+)"$/.exec(a))) {
        defines.set(m[1]!, parseList(/^end$/).nodes);
      } else if ((m = /^(if|with)\s+([\s\S]+)$/.exec(a))) {
        const node: IfNode = { kind: m[1] as 'if' | 'with', branches: [], otherwise: [] };
        let pipe = parsePipeline(m[2]!);
        for (;;) {
          const { nodes: body, end } = parseList(/^(else|end)\b/);
          node.branches.push({ pipe, body });
          const elseIf = /^else\s+if\s+([\s\S]+)$/.exec(end);
          if (elseIf && node.kind === 'if') {
            pipe = parsePipeline(elseIf[1]!);
            continue;
          }
          if (end === 'else') node.otherwise = parseList(/^end$/).nodes;
          else if (end !== 'end') throw new Error(`unsupported "${end}"`);
          break;
        }
        nodes.push(node);
      } else if ((m = /^range\s+([\s\S]+)$/.exec(a))) {
        const pipe = parsePipeline(m[1]!);
        const { nodes: body, end } = parseList(/^(else|end)$/);
        const otherwise = end === 'else' ? parseList(/^end$/).nodes : [];
        nodes.push({ kind: 'range', pipe, body, otherwise });
      } else if (/^(end|else)\b/.test(a)) {
        throw new Error(`unexpected {{ ${a} }}`);
      } else if (/^(template|block|break|continue)\b/.test(a)) {
        throw new Error(`{{ ${a} }} is not supported by the test renderer`);
      } else {
        nodes.push({ kind: 'action', pipe: parsePipeline(a) });
      }
    }
    if (stop.source !== '$^') throw new Error(`missing {{ end }}`);
    return { nodes, end: '' };
  };
  return parseList(/$^/).nodes;
}

// ---------- evaluation ----------

function truthy(v: Value): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

function show(v: Value): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function toYaml(v: Value): string {
  if (v === undefined || v === null) return 'null';
  return stringify(v, { sortMapEntries: true, lineWidth: 0 }).replace(/\n$/, '');
}

function kindOf(v: Value): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (Array.isArray(v)) return 'slice';
  if (v === null || v === undefined) return 'invalid';
  return 'map';
}

class Scope {
  private readonly vars = new Map<string, Value>();
  constructor(private readonly parent?: Scope) {}
  get(name: string): Value {
    if (this.vars.has(name)) return this.vars.get(name);
    if (this.parent) return this.parent.get(name);
    throw new Error(`undefined variable ${name}`);
  }
  declare(name: string, v: Value): void {
    this.vars.set(name, v);
  }
  assign(name: string, v: Value): void {
    if (this.vars.has(name) || !this.parent) this.vars.set(name, v);
    else this.parent.assign(name, v);
  }
}

export class TemplateRenderer {
  readonly defines = new Map<string, Node[]>();
  private readonly files = new Map<string, Node[]>();

  addFile(name: string, source: string): void {
    this.files.set(name, parse(lex(source), this.defines));
  }

  render(name: string, data: Value): string {
    const nodes = this.files.get(name);
    if (!nodes) throw new Error(`no template file ${name}`);
    const scope = new Scope();
    scope.declare('$', data);
    return this.exec(nodes, data, scope);
  }

  private include(name: string, data: Value): string {
    const nodes = this.defines.get(name);
    if (!nodes) throw new Error(`include of undefined template "${name}"`);
    const scope = new Scope();
    scope.declare('$', data);
    return this.exec(nodes, data, scope);
  }

  private exec(nodes: Node[], dot: Value, scope: Scope): string {
    let out = '';
    for (const node of nodes) {
      switch (node.kind) {
        case 'text':
          out += node.text;
          break;
        case 'action': {
          const v = this.pipeline(node.pipe, dot, scope);
          if (!node.pipe.decl) out += show(v);
          break;
        }
        case 'if':
        case 'with': {
          let done = false;
          for (const branch of node.branches) {
            const inner = new Scope(scope);
            const v = this.pipeline(branch.pipe, dot, inner);
            if (truthy(v)) {
              out += this.exec(branch.body, node.kind === 'with' ? v : dot, inner);
              done = true;
              break;
            }
          }
          if (!done) out += this.exec(node.otherwise, dot, new Scope(scope));
          break;
        }
        case 'range': {
          const { decl, commands } = node.pipe;
          const coll = this.pipeline({ commands }, dot, scope);
          const entries: Array<[Value, Value]> = Array.isArray(coll)
            ? coll.map((v, i) => [i, v])
            : coll && typeof coll === 'object'
              ? Object.keys(coll)
                  .sort()
                  .map((k) => [k, (coll as Record<string, Value>)[k]])
              : [];
          if (entries.length === 0) {
            out += this.exec(node.otherwise, dot, new Scope(scope));
            break;
          }
          for (const [k, v] of entries) {
            const inner = new Scope(scope);
            if (decl?.names.length === 1) inner.declare(decl.names[0]!, v);
            if (decl?.names.length === 2) {
              inner.declare(decl.names[0]!, k);
              inner.declare(decl.names[1]!, v);
            }
            out += this.exec(node.body, v, inner);
          }
          break;
        }
      }
    }
    return out;
  }

  private pipeline(pipe: Pipeline, dot: Value, scope: Scope): Value {
    let value: Value = undefined;
    pipe.commands.forEach((command, i) => {
      value = this.command(command, dot, scope, i === 0 ? undefined : { value });
    });
    if (pipe.decl) {
      const [name] = pipe.decl.names;
      if (pipe.decl.assign) scope.assign(name!, value);
      else scope.declare(name!, value);
    }
    return value;
  }

  private command(command: Operand[], dot: Value, scope: Scope, piped?: { value: Value }): Value {
    const [head, ...rest] = command;
    if (!head) throw new Error('empty command');
    if (head.t === 'ident') {
      const args = rest.map((o) => this.operand(o, dot, scope));
      if (piped) args.push(piped.value);
      return this.call(head.name, args);
    }
    if (rest.length > 0 || piped) throw new Error('a value cannot take arguments');
    return this.operand(head, dot, scope);
  }

  private operand(o: Operand, dot: Value, scope: Scope): Value {
    switch (o.t) {
      case 'lit':
        return o.v;
      case 'sub':
        return this.pipeline(o.pipe, dot, scope);
      case 'ident':
        return this.call(o.name, []);
      case 'field': {
        let v: Value = o.base === null ? dot : scope.get(o.base);
        for (const key of o.path) {
          if (v === undefined || v === null) return undefined;
          if (typeof v !== 'object') throw new Error(`cannot read .${key} of ${show(v)}`);
          v = (v as Record<string, Value>)[key];
        }
        return v;
      }
    }
  }

  private call(name: string, args: Value[]): Value {
    const fn = FUNCTIONS[name];
    if (name === 'include') return this.include(String(args[0]), args[1]);
    if (!fn) throw new Error(`function "${name}" is not supported by the test renderer`);
    return fn(...args);
  }
}

const indentLines = (n: number, s: string) =>
  String(s)
    .split('\n')
    .map((line) => ' '.repeat(n) + line)
    .join('\n');

const FUNCTIONS: Record<string, (...args: Value[]) => Value> = {
  default: (d, v) => (truthy(v) ? v : d),
  required: (message, v) => {
    if (v === undefined || v === null || v === '') throw new Error(String(message));
    return v;
  },
  trunc: (n, s) => String(s).slice(0, Number(n)),
  trimSuffix: (suffix, s) =>
    String(s).endsWith(String(suffix)) ? String(s).slice(0, -String(suffix).length) : s,
  contains: (substr, s) => String(s).includes(String(substr)),
  replace: (from, to, s) => String(s).split(String(from)).join(String(to)),
  printf: (format, ...args) => {
    let i = 0;
    return String(format).replace(/%[sdv]/g, () => show(args[i++]));
  },
  quote: (...args) => args.map((a) => JSON.stringify(show(a))).join(' '),
  toYaml,
  nindent: (n, s) => `\n${indentLines(Number(n), String(s))}`,
  indent: (n, s) => indentLines(Number(n), String(s)),
  sha256sum: (s) => createHash('sha256').update(String(s)).digest('hex'),
  deepCopy: (v) => structuredClone(v),
  set: (d, k, v) => {
    (d as Record<string, Value>)[String(k)] = v;
    return d;
  },
  dict: (...kv) => {
    const out: Record<string, Value> = {};
    for (let i = 0; i < kv.length; i += 2) out[String(kv[i])] = kv[i + 1];
    return out;
  },
  list: (...items) => items,
  index: (coll, ...keys) =>
    keys.reduce((v: Value, k) => (v as Record<string, Value> | undefined)?.[String(k)], coll),
  int: (v) => Math.trunc(Number(v ?? 0)),
  gt: (a, b) => Number(a) > Number(b),
  lt: (a, b) => Number(a) < Number(b),
  eq: (a, ...bs) => bs.some((b) => a === b),
  ne: (a, b) => a !== b,
  not: (v) => !truthy(v),
  and: (...vs) => vs.find((v) => !truthy(v)) ?? vs.at(-1),
  or: (...vs) => vs.find((v) => truthy(v)) ?? vs.at(-1),
  kindIs: (kind, v) => kindOf(v) === kind,
  empty: (v) => !truthy(v),
};
