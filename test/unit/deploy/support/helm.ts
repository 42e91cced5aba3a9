/**
 * The chart as helm itself renders it: `helm lint --strict` and `helm template` run by the real
 * binary (scripts/helm.ts finds it), values passed as JSON on stdin, the multi-document output
 * parsed with `yaml`.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { helmBinary } from '../../../../scripts/helm.js';
import { repoPath } from './paths.js';

export const chartDir = repoPath('helm/aws-access-bot');
export const RELEASE = 'aws-access-bot';
export const NAMESPACE = 'aws-access-bot';
/** Capabilities.KubeVersion for rendering: the cluster version the chart is checked against. */
export const KUBE_VERSION = '1.30.0';

const helm = helmBinary();

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered manifests are free-form
  spec?: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  data?: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [key: string]: any;
}

export interface Rendered {
  objects: K8sObject[];
  /** helm's output as printed. */
  manifest: string;
}

/** helm exited non-zero; `stderr` carries its message (a schema violation, a `required` value). */
export class HelmFailed extends Error {
  constructor(
    readonly args: string[],
    readonly stderr: string,
  ) {
    super(`helm ${args.join(' ')} failed:\n${stderr}`);
  }
}

function runHelm(args: string[], values: Record<string, unknown>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(helm, args, { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new HelmFailed(args, stderr || error.message));
      else resolve(stdout);
    });
    // JSON is YAML: helm reads the values file from stdin (`-f -`).
    child.stdin!.end(JSON.stringify(values));
  });
}

export function parseManifest(manifest: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(manifest)) {
    if (doc.errors.length > 0) throw new Error(doc.errors.map((e) => e.message).join('; '));
    const obj = doc.toJS() as K8sObject | null;
    if (obj) objects.push(obj);
  }
  return objects;
}

/** `helm template` of the chart (or a patched copy) with `values` over values.yaml. */
export async function renderChart(
  values: Record<string, unknown>,
  { chart = chartDir, showOnly }: { chart?: string; showOnly?: string } = {},
): Promise<Rendered> {
  const args = ['template', RELEASE, chart, '--namespace', NAMESPACE, '--kube-version', KUBE_VERSION];
  if (showOnly) args.push('--show-only', showOnly);
  const manifest = await runHelm([...args, '--values', '-'], values);
  return { manifest, objects: showOnly ? [] : parseManifest(manifest) };
}

/** `helm lint --strict`: missing values keys and chart warnings fail it; resolves to its report. */
export function lintChart(values: Record<string, unknown>): Promise<string> {
  return runHelm(['lint', chartDir, '--strict', '--kube-version', KUBE_VERSION, '--values', '-'], values);
}

/** A throw-away copy of the chart for a test to alter; removed by the returned `remove`. */
export async function copyChart(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'aws-access-bot-chart-'));
  const dir = join(root, 'aws-access-bot');
  await cp(chartDir, dir, { recursive: true });
  return { dir, remove: () => rm(root, { recursive: true, force: true }) };
}

/**
 * NOTES.txt as helm renders it. `helm template` never prints notes and `helm install --dry-run`
 * needs a cluster, so a copy of the chart carries NOTES.txt as an ordinary template.
 */
export async function renderNotes(values: Record<string, unknown>): Promise<string> {
  const copy = await copyChart();
  try {
    await rename(join(copy.dir, 'templates/NOTES.txt'), join(copy.dir, 'templates/notes.yaml'));
    const { manifest } = await renderChart(values, { chart: copy.dir, showOnly: 'templates/notes.yaml' });
    return manifest.replace(/^---\n# Source: .*\n/, '');
  } finally {
    await copy.remove();
  }
}

export function find(rendered: Rendered, kind: string, name: string): K8sObject | undefined {
  return rendered.objects.find((o) => o.kind === kind && o.metadata.name === name);
}
