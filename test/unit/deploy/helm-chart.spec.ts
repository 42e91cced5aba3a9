import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import {
  blockBalance,
  chartDir,
  chartTemplates,
  definedNames,
  hasPath,
  includedNames,
  readValues,
  roleValuesPaths,
  skeleton,
  valuesPaths,
} from './support/helm-chart.js';
import { configValuesSchema } from './support/values-schema.js';

/** The longest single job step: provisioning waits up to ~60 s for IAM to propagate a new role. */
const LONGEST_JOB_STEP_SECONDS = 60;

const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as {
  properties: Record<string, unknown>;
};
const values = readValues();
const templates = chartTemplates();
const helpers = templates.get('_helpers.tpl')!;
const podTemplate = /define "aws-access-bot\.podTemplate"([\s\S]*?)\n\{\{- end \}\}/.exec(helpers)?.[1] ?? '';

function validator() {
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, validateFormats: false });
  return ajv.compile(schema);
}

/** values.yaml as a free-form tree, so a test can break any field of a copy. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ValuesTree = Record<string, any>;

function withChange(change: (v: ValuesTree) => void): Record<string, unknown> {
  const copy = structuredClone(values) as ValuesTree;
  change(copy);
  return copy;
}

describe('Helm chart values', () => {
  it('values.yaml validates against values.schema.json', () => {
    const validate = validator();
    expect(validate(values), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('the schema rejects values the chart cannot render safely', () => {
    const validate = validator();
    const bad: Array<[string, Record<string, unknown>]> = [
      ['unknown top-level key', withChange((v) => (v.replica = 2))],
      ['negative replicas', withChange((v) => (v.web.replicas = -1))],
      ['unknown pull policy', withChange((v) => (v.image.pullPolicy = 'Sometimes'))],
      [
        'worker grace period shorter than the longest job',
        withChange((v) => (v.worker.terminationGracePeriodSeconds = LONGEST_JOB_STEP_SECONDS)),
      ],
      [
        'a Slack token as a plain env var',
        withChange((v) => (v.extraEnv = [{ name: 'SLACK_BOT_TOKEN', value: 'xoxb-1' }])),
      ],
      ['a misspelt config key', withChange((v) => (v.config.slack.chanels = {}))],
      ['a malformed channel id', withChange((v) => (v.config.slack.channels.audit = '#audit'))],
      ['templates.directory set by hand', withChange((v) => (v.config.templates = { directory: '/x' }))],
      ['config without approval rules', withChange((v) => delete v.config.approval)],
    ];
    for (const [what, candidate] of bad) expect(validate(candidate), what).toBe(false);
  });

  it("the schema's config section is generated from the bot's zod config schema", () => {
    // Regenerate with: npx tsx test/unit/deploy/support/write-values-schema.ts
    expect(schema.properties.config).toEqual(configValuesSchema());
  });

  it('the default config is one the bot accepts at start-up', () => {
    const config = { ...(values.config as object), templates: { directory: '/app/templates' } };
    const result = configSchema.safeParse(config);
    expect(result.success, JSON.stringify(result.error?.issues)).toBe(true);
  });

  it('holds no secret: Slack tokens and the Redis URL come from existingSecret', () => {
    const text = readFileSync(join(chartDir, 'values.yaml'), 'utf8');
    expect(text).not.toMatch(/xox[abposr]-|xapp-|redis:\/\/|AKIA[0-9A-Z]{12}/);
    const env = helpers;
    for (const key of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'REDIS_URL']) {
      expect(env).toMatch(
        new RegExp(
          `- name: ${key}\\n\\s+valueFrom:\\n\\s+secretKeyRef:\\n\\s+name: \\{\\{ \\$secret \\}\\}\\n\\s+key: ${key}`,
        ),
      );
    }
    expect(env).toMatch(/\$secret := required "[^"]+" \.Values\.existingSecret/);
  });

  it('worker terminationGracePeriodSeconds is above the longest job step', () => {
    const worker = values.worker as { terminationGracePeriodSeconds: number };
    expect(worker.terminationGracePeriodSeconds).toBeGreaterThan(LONGEST_JOB_STEP_SECONDS);
    expect(podTemplate).toMatch(
      /terminationGracePeriodSeconds: \{\{ \.values\.terminationGracePeriodSeconds \}\}/,
    );
  });
});

describe('Helm chart templates', () => {
  it('every .Values path the templates use exists in values.yaml', () => {
    const missing: string[] = [];
    let count = 0;
    for (const [file, text] of templates) {
      for (const path of valuesPaths(text)) {
        count++;
        if (!hasPath(values, path)) missing.push(`${file}: .Values.${path.join('.')}`);
      }
      for (const path of roleValuesPaths(text)) {
        for (const role of ['web', 'worker']) {
          count++;
          if (!hasPath(values, [role, ...path])) missing.push(`${file}: .Values.${role}.${path.join('.')}`);
        }
      }
    }
    expect(count).toBeGreaterThan(20);
    expect(missing).toEqual([]);
  });

  it('every included named template is defined, and every block is closed', () => {
    const defined = new Set([...templates.values()].flatMap(definedNames));
    for (const [file, text] of templates) {
      for (const name of includedNames(text))
        expect(defined.has(name), `${file} includes ${name}`).toBe(true);
      expect(blockBalance(text), `${file} blocks`).toBe(0);
      expect((text.match(/\{\{/g) ?? []).length, `${file} braces`).toBe((text.match(/\}\}/g) ?? []).length);
    }
  });

  it('the static YAML around the template actions parses', () => {
    for (const [file, text] of templates) {
      if (!file.endsWith('.yaml')) continue;
      const docs = parseAllDocuments(skeleton(text));
      for (const doc of docs) expect(doc.errors.map((e) => `${file}: ${e.message}`)).toEqual([]);
    }
  });

  it('renders separate web and worker Deployments that pass --role', () => {
    for (const role of ['web', 'worker']) {
      const text = templates.get(`deployment-${role}.yaml`);
      expect(text, `deployment-${role}.yaml`).toBeDefined();
      expect(parse(skeleton(text!)).kind).toBe('Deployment');
      expect(text).toContain(`replicas: {{ .Values.${role}.replicas }}`);
      expect(text).toContain(
        `include "aws-access-bot.podTemplate" (dict "root" $ "role" "${role}" "values" .Values.${role})`,
      );
      expect(text).toContain(`(dict "root" $ "role" "${role}")`);
    }
    expect(podTemplate).toContain('args: ["start", "--role", {{ .role | quote }}]');
  });

  it('probes /healthz for liveness and /readyz for readiness on the http port', () => {
    expect(podTemplate).toMatch(/livenessProbe:\n\s+httpGet:\n\s+path: \/healthz\n\s+port: http/);
    expect(podTemplate).toMatch(/readinessProbe:\n\s+httpGet:\n\s+path: \/readyz\n\s+port: http/);
    expect(podTemplate).toMatch(/- name: http\n\s+containerPort: 3000/);
  });

  it('runs non-root with a read-only root filesystem, /tmp on an emptyDir, no capabilities', () => {
    const container = parse(
      /define "aws-access-bot\.containerSecurityContext" -\}\}\n([\s\S]*?)\{\{- end/.exec(helpers)![1]!,
    );
    expect(container).toMatchObject({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    const pod = parse(
      /define "aws-access-bot\.podSecurityContext" -\}\}\n([\s\S]*?)\{\{- end/.exec(helpers)![1]!,
    );
    expect(pod).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.runAsUser).toBeGreaterThan(0);
    expect(podTemplate).toContain('{{- include "aws-access-bot.podSecurityContext" $root | nindent 4 }}');
    expect(podTemplate).toContain(
      '{{- include "aws-access-bot.containerSecurityContext" $root | nindent 8 }}',
    );
    expect(helpers).toMatch(/- name: tmp\n\s+emptyDir:/);
    expect(helpers).toMatch(/- name: tmp\n\s+mountPath: \/tmp/);
  });

  it('creates a PodDisruptionBudget per role only when it runs more than one replica', () => {
    const pdb = templates.get('poddisruptionbudget.yaml')!;
    expect(pdb).toContain('{{- range $role := list "web" "worker" }}');
    expect(pdb).toContain('{{- if gt (int $values.replicas) 1 }}');
    expect(pdb).toContain('kind: PodDisruptionBudget');
    expect(pdb).toContain('minAvailable: {{ $values.podDisruptionBudget.minAvailable }}');
  });

  it('mounts the config file AWS_ACCESS_CONFIG names, with templates.directory set to the mounted templates', () => {
    expect(helpers).toMatch(
      /- name: AWS_ACCESS_CONFIG\n\s+value: \{\{ include "aws-access-bot.configDir" \. \}\}\/aws-access\.yaml/,
    );
    expect(helpers).toMatch(/mountPath: \{\{ include "aws-access-bot.configDir" \. \}\}\/aws-access\.yaml/);
    expect(helpers).toContain(
      '$_ := set $config "templates" (dict "directory" (include "aws-access-bot.templatesDir" .))',
    );
    expect(helpers).toMatch(/- name: templates\n\s+mountPath: \/etc\/aws-access-bot\/templates/);
    expect(helpers).toMatch(/templatesDir"[\s\S]*?\/etc\/aws-access-bot\/templates[\s\S]*?\/app\/templates/);
    expect(templates.get('configmap.yaml')).toContain('include "aws-access-bot.configFile" . | nindent 4');
    expect(templates.get('configmap-templates.yaml')).toContain(
      'range $file, $template := .Values.boundaryTemplates',
    );
  });

  it('routes the Service to the web pods on port 3000 and publishes only /slack/events', () => {
    const service = parse(skeleton(templates.get('service.yaml')!));
    expect(service.spec.ports).toEqual([{ name: 'http', port: 'x', targetPort: 'http', protocol: 'TCP' }]);
    expect(templates.get('service.yaml')).toContain('(dict "root" $ "role" "web")');
    expect((values.service as { port: number }).port).toBe(3000);
    const ingress = templates.get('ingress.yaml')!;
    expect(ingress).toMatch(/^\{\{- if \.Values\.ingress\.enabled \}\}$/m);
    expect([...ingress.matchAll(/- path: (\S+)/g)].map((m) => m[1])).toEqual(['/slack/events']);
  });

  it('annotates the ServiceAccount for IRSA and keeps the Kubernetes API token unmounted', () => {
    const sa = templates.get('serviceaccount.yaml')!;
    expect(sa).toContain('{{- with .Values.serviceAccount.annotations }}');
    expect((values.serviceAccount as { automountToken: boolean }).automountToken).toBe(false);
    expect(podTemplate).toContain(
      'automountServiceAccountToken: {{ $root.Values.serviceAccount.automountToken }}',
    );
  });

  it('Chart.yaml names the chart after its directory', () => {
    const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8'));
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'aws-access-bot', type: 'application' });
  });
});
