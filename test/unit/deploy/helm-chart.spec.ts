import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyChart, chartDir, HelmFailed, lintChart, renderChart } from './support/helm.js';
import { validateObject } from './support/kubernetes-schema.js';
import { configValuesSchema } from './support/values-schema.js';

type Values = Record<string, unknown>;

const secret = { existingSecret: 'aws-access-bot' };

/** The ways operators install the chart; each must lint, render and produce valid objects. */
const matrix: Record<string, Values> = {
  'defaults with existingSecret': secret,
  'HTTP mode behind an Ingress': {
    ...secret,
    ingress: {
      enabled: true,
      className: 'nginx',
      host: 'bot.example.com',
      annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt' },
      tls: [{ secretName: 'aws-access-tls', hosts: ['bot.example.com'] }],
    },
  },
  'Socket Mode with one replica per role': {
    ...secret,
    ingress: { enabled: false },
    web: { replicas: 1 },
    worker: { replicas: 1 },
  },
  'web and worker scaled out with disruption budgets': {
    ...secret,
    web: { replicas: 3, podDisruptionBudget: { minAvailable: 2 } },
    worker: { replicas: 5, podDisruptionBudget: { minAvailable: '50%' } },
  },
  'IRSA role on the ServiceAccount': {
    ...secret,
    serviceAccount: {
      annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::999999999999:role/aws-access-bot' },
    },
  },
  'an existing ServiceAccount': { ...secret, serviceAccount: { create: false, name: 'shared-bot' } },
  'resources and image tag': {
    ...secret,
    image: { tag: '1.2.3', pullPolicy: 'Always' },
    imagePullSecrets: [{ name: 'ghcr' }],
    web: { resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: 1, memory: '512Mi' } } },
    worker: { resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '2Gi' } } },
  },
  'extra env, pod metadata and scheduling': {
    ...secret,
    extraEnv: [
      { name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' },
      { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
    ],
    podLabels: { team: 'platform' },
    podAnnotations: { 'example.com/owner': 'platform' },
    service: { annotations: { 'example.com/scrape': 'false' } },
    nodeSelector: { 'kubernetes.io/os': 'linux' },
    tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'platform', effect: 'NoSchedule' }],
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'aws-access-bot' } },
      },
    ],
  },
  'boundary templates inline': {
    ...secret,
    boundaryTemplates: {
      'readonly.yaml': { name: 'readonly', description: 'Read-only', boundary: { Version: '2012-10-17' } },
      'raw.yaml': 'name: raw\n',
    },
  },
  'boundary templates from an existing ConfigMap': {
    ...secret,
    existingTemplatesConfigMap: 'aws-access-templates',
  },
};

describe('the Helm chart, checked by helm', () => {
  it.concurrent.for(Object.entries(matrix))(
    '%s: passes helm lint --strict',
    async ([, values], { expect }) => {
      await expect(lintChart(values)).resolves.toContain('0 chart(s) failed');
    },
  );

  it.concurrent.for(Object.entries(matrix))(
    '%s: renders only objects valid against the Kubernetes schemas',
    async ([, values], { expect }) => {
      const { objects } = await renderChart(values);
      expect(objects.length).toBeGreaterThanOrEqual(5);
      for (const object of objects) {
        expect(() => validateObject(object), `${object.kind}/${object.metadata.name}`).not.toThrow();
      }
    },
  );

  it('the Kubernetes schema check catches an invalid Deployment', async () => {
    const copy = await copyChart();
    try {
      const file = join(copy.dir, 'templates/deployment-web.yaml');
      const template = await readFile(file, 'utf8');
      const broken = template.replace(
        'replicas: {{ .Values.web.replicas }}',
        'replicas: {{ .Values.web.replicas | quote }}',
      );
      expect(broken).not.toBe(template);
      await writeFile(file, broken);
      const { objects } = await renderChart(secret, { chart: copy.dir });
      const web = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'aws-access-bot-web')!;
      expect(web.spec.replicas).toBe('2');
      expect(() => validateObject(web)).toThrow(/spec\/replicas must be integer/);
    } finally {
      await copy.remove();
    }
  });

  it('refuses to render without existingSecret', async () => {
    await expect(renderChart({})).rejects.toThrow(/existingSecret must name a Secret/);
  });

  it.concurrent.for<[string, Values, RegExp]>([
    ['an unknown top-level key', { replica: 2 }, /\(root\): Additional property replica is not allowed/],
    ['negative replicas', { web: { replicas: -1 } }, /web\.replicas: Must be greater than or equal to 0/],
    ['an unknown pull policy', { image: { pullPolicy: 'Sometimes' } }, /image\.pullPolicy: .*must be one of/],
    [
      'a worker grace period no longer than the longest job step',
      { worker: { terminationGracePeriodSeconds: 60 } },
      /worker\.terminationGracePeriodSeconds: Must be greater than or equal to 90/,
    ],
    [
      'a Slack token as a plain env var',
      { extraEnv: [{ name: 'SLACK_BOT_TOKEN', value: 'xoxb-1' }] },
      /extraEnv\.0\.name: Must not validate the schema/,
    ],
    [
      'a misspelt config key',
      { config: { slack: { chanels: {} } } },
      /config\.slack: Additional property chanels is not allowed/,
    ],
    [
      'a malformed channel id',
      { config: { slack: { channels: { audit: '#audit' } } } },
      /config\.slack\.channels\.audit: Does not match pattern/,
    ],
    [
      'templates.directory set by hand',
      { config: { templates: { directory: '/x' } } },
      /config: Additional property templates is not allowed/,
    ],
    ['a config without approval rules', { config: { approval: null } }, /config: approval is required/],
    [
      'an extra env value that is not a string (Kubernetes would reject the Deployment)',
      { extraEnv: [{ name: 'FEATURE_X', value: 5 }] },
      /extraEnv\.0\.value: Invalid type\. Expected: string/,
    ],
  ])('helm template refuses %s with the schema message', async ([, values, message], { expect }) => {
    const failure = await renderChart({ ...secret, ...values }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(HelmFailed);
    expect((failure as HelmFailed).stderr).toMatch(/values don't meet the specifications of the schema/);
    expect((failure as HelmFailed).stderr).toMatch(message);
  });

  it("the values schema's config section is generated from the bot's zod config schema", async () => {
    // Regenerate with: npx tsx test/unit/deploy/support/write-values-schema.ts
    const schema = JSON.parse(await readFile(join(chartDir, 'values.schema.json'), 'utf8')) as {
      properties: Record<string, unknown>;
    };
    expect(schema.properties.config).toEqual(configValuesSchema());
  });
});
