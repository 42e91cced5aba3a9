/**
 * Renders the chart the way `helm template` would, for the features the chart uses (see
 * go-template.ts): values.yaml deep-merged with overrides, Release and Chart objects, every
 * templates/*.yaml rendered and split into Kubernetes objects.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { TemplateRenderer } from './go-template.js';
import { chartDir, chartTemplates, readValues } from './helm-chart.js';

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

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Helm's merge: maps merge key by key, anything else (lists included) is replaced; null deletes. */
export function mergeValues(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) {
    if (v === null) delete out[k];
    else out[k] = mergeValues(base[k], v);
  }
  return out;
}

export interface Rendered {
  objects: K8sObject[];
  /** file name -> rendered text */
  files: Map<string, string>;
  notes: string;
}

export function renderChart(
  overrides: Record<string, unknown> = {},
  releaseName = 'aws-access-bot',
): Rendered {
  const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as Record<string, string>;
  const renderer = new TemplateRenderer();
  const templates = chartTemplates();
  for (const [file, text] of templates) renderer.addFile(file, text);
  const context = {
    Values: mergeValues(readValues(), overrides),
    Release: { Name: releaseName, Namespace: 'aws-access-bot', Service: 'Helm', IsInstall: true },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
    Template: { BasePath: 'aws-access-bot/templates' },
  };
  const files = new Map<string, string>();
  const objects: K8sObject[] = [];
  for (const file of templates.keys()) {
    if (!file.endsWith('.yaml')) continue;
    const text = renderer.render(file, context);
    files.set(file, text);
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0)
        throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}\n${text}`);
      const obj = doc.toJS() as K8sObject | null;
      if (obj) objects.push(obj);
    }
  }
  return { objects, files, notes: renderer.render('NOTES.txt', context) };
}

export function find(rendered: Rendered, kind: string, name: string): K8sObject | undefined {
  return rendered.objects.find((o) => o.kind === kind && o.metadata.name === name);
}
