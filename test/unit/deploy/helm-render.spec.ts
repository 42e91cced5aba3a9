import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { find, renderChart, renderNotes, type K8sObject, type Rendered } from './support/helm.js';

const base = { existingSecret: 'aws-access-bot' };
const render = (overrides: Record<string, unknown> = {}) => renderChart({ ...base, ...overrides });

/** The longest single job step: provisioning waits up to ~60 s for IAM to propagate a new role. */
const LONGEST_JOB_STEP_SECONDS = 60;

const SECRET_KEYS = [
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'REDIS_URL',
  'AWS_ACCESS_HMAC_KEY',
  'PAGERDUTY_API_TOKEN',
  'OPSGENIE_API_KEY',
] as const;

function container(deployment: K8sObject) {
  return deployment.spec.template.spec.containers[0];
}

function envOf(deployment: K8sObject): Record<string, { value?: string; valueFrom?: unknown }> {
  return Object.fromEntries(container(deployment).env.map((e: { name: string }) => [e.name, e]));
}

function deployments(r: Rendered): K8sObject[] {
  return r.objects.filter((o) => o.kind === 'Deployment');
}

describe('the Helm chart as helm renders it', () => {
  let defaults: Rendered;
  beforeAll(async () => {
    defaults = await render();
  });

  it('renders web and worker Deployments, a Service, a ServiceAccount, the config and two budgets by default', () => {
    const kinds = defaults.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(kinds).toEqual([
      'ConfigMap/aws-access-bot-config',
      'Deployment/aws-access-bot-web',
      'Deployment/aws-access-bot-worker',
      'PodDisruptionBudget/aws-access-bot-web',
      'PodDisruptionBudget/aws-access-bot-worker',
      'Service/aws-access-bot',
      'ServiceAccount/aws-access-bot',
    ]);
    for (const o of defaults.objects)
      expect(o.metadata.labels).toMatchObject({
        'helm.sh/chart': 'aws-access-bot-0.1.0',
        'app.kubernetes.io/name': 'aws-access-bot',
      });
  });

  it('starts each Deployment with its own --role', () => {
    for (const role of ['web', 'worker']) {
      const deployment = find(defaults, 'Deployment', `aws-access-bot-${role}`)!;
      // Then the shutdown deadline flags (test/unit/deploy/helm-shutdown.spec.ts).
      expect(container(deployment).args.slice(0, 3)).toEqual(['start', '--role', role]);
      expect(deployment.spec.selector.matchLabels).toEqual(
        expect.objectContaining({ 'app.kubernetes.io/component': role }),
      );
      expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
    }
  });

  it('scales web and worker separately', async () => {
    const r = await render({ web: { replicas: 3 }, worker: { replicas: 5 } });
    expect(find(r, 'Deployment', 'aws-access-bot-web')!.spec.replicas).toBe(3);
    expect(find(r, 'Deployment', 'aws-access-bot-worker')!.spec.replicas).toBe(5);
  });

  it('probes /healthz for liveness and /readyz for readiness on the container port', () => {
    for (const deployment of deployments(defaults)) {
      const c = container(deployment);
      expect(c.ports).toEqual([{ name: 'http', containerPort: 3000, protocol: 'TCP' }]);
      expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    }
  });

  it('runs pods non-root, read-only, without capabilities or privilege escalation, with /tmp on an emptyDir', () => {
    for (const deployment of deployments(defaults)) {
      const pod = deployment.spec.template.spec;
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 10001,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(container(deployment).securityContext).toEqual({
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        privileged: false,
        capabilities: { drop: ['ALL'] },
      });
      const tmpMount = container(deployment).volumeMounts.find(
        (m: { mountPath: string }) => m.mountPath === '/tmp',
      );
      expect(pod.volumes.find((v: { name: string }) => v.name === tmpMount.name).emptyDir).toBeDefined();
      expect(pod.automountServiceAccountToken).toBe(false);
    }
  });

  it('gives the worker a termination grace period above the longest job step', () => {
    const grace = (role: string) =>
      find(defaults, 'Deployment', `aws-access-bot-${role}`)!.spec.template.spec
        .terminationGracePeriodSeconds;
    expect(grace('worker')).toBeGreaterThan(LONGEST_JOB_STEP_SECONDS);
    expect(grace('web')).toBe(30);
  });

  it('takes every secret from existingSecret and none from values', async () => {
    const r = await render({ extraEnv: [{ name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' }] });
    expect(r.objects.some((o) => o.kind === 'Secret')).toBe(false);
    expect(r.manifest).not.toMatch(/xox[abposr]-|xapp-|redis:\/\/|AKIA[0-9A-Z]{12}/);
    for (const deployment of deployments(r)) {
      const env = envOf(deployment);
      for (const key of SECRET_KEYS) {
        expect(env[key]!.value, key).toBeUndefined();
        expect(env[key]!.valueFrom).toMatchObject({ secretKeyRef: { name: 'aws-access-bot', key } });
      }
      for (const key of ['SLACK_BOT_TOKEN', 'REDIS_URL', 'AWS_ACCESS_HMAC_KEY'])
        expect(env[key]!.valueFrom, key).not.toMatchObject({ secretKeyRef: { optional: true } });
      for (const key of ['SLACK_APP_TOKEN', 'PAGERDUTY_API_TOKEN', 'OPSGENIE_API_KEY'])
        expect(env[key]!.valueFrom, key).toMatchObject({ secretKeyRef: { optional: true } });
      expect(env.AWS_STS_REGIONAL_ENDPOINTS).toEqual({
        name: 'AWS_STS_REGIONAL_ENDPOINTS',
        value: 'regional',
      });
    }
  });

  it('mounts a config file the bot accepts where AWS_ACCESS_CONFIG points, using the templates built into the image', () => {
    const web = find(defaults, 'Deployment', 'aws-access-bot-web')!;
    const path = envOf(web).AWS_ACCESS_CONFIG!.value!;
    const mount = container(web).volumeMounts.find((m: { mountPath: string }) => m.mountPath === path);
    expect(mount).toMatchObject({ name: 'config', subPath: 'aws-access.yaml', readOnly: true });
    const configMap = find(defaults, 'ConfigMap', 'aws-access-bot-config')!;
    const volume = web.spec.template.spec.volumes.find((v: { name: string }) => v.name === 'config');
    expect(volume.configMap.name).toBe(configMap.metadata.name);
    const config = parse(configMap.data['aws-access.yaml']);
    expect(config.templates).toEqual({ directory: '/app/templates' });
    const result = configSchema.safeParse(config);
    expect(result.success, JSON.stringify(result.error?.issues)).toBe(true);
  });

  it('renders inline boundary templates into a ConfigMap mounted where templates.directory points', async () => {
    const template = { name: 'readonly', description: 'Read-only', boundary: { Version: '2012-10-17' } };
    const r = await render({ boundaryTemplates: { 'readonly.yaml': template, 'raw.yaml': 'name: raw\n' } });
    const templates = find(r, 'ConfigMap', 'aws-access-bot-templates')!;
    expect(parse(templates.data['readonly.yaml'])).toEqual(template);
    expect(parse(templates.data['raw.yaml'])).toEqual({ name: 'raw' });
    const config = parse(find(r, 'ConfigMap', 'aws-access-bot-config')!.data['aws-access.yaml']);
    for (const deployment of deployments(r)) {
      const mount = container(deployment).volumeMounts.find((m: { name: string }) => m.name === 'templates');
      expect(mount).toMatchObject({ mountPath: config.templates.directory, readOnly: true });
      const volume = deployment.spec.template.spec.volumes.find(
        (v: { name: string }) => v.name === 'templates',
      );
      expect(volume.configMap.name).toBe('aws-access-bot-templates');
    }
  });

  it('mounts boundary templates from an existing ConfigMap instead of rendering one', async () => {
    const r = await render({
      existingTemplatesConfigMap: 'aws-access-templates',
      boundaryTemplates: { 'ignored.yaml': 'name: ignored\n' },
    });
    expect(find(r, 'ConfigMap', 'aws-access-bot-templates')).toBeUndefined();
    const config = parse(find(r, 'ConfigMap', 'aws-access-bot-config')!.data['aws-access.yaml']);
    const worker = find(r, 'Deployment', 'aws-access-bot-worker')!;
    const mount = container(worker).volumeMounts.find((m: { name: string }) => m.name === 'templates');
    expect(mount.mountPath).toBe(config.templates.directory);
    const volume = worker.spec.template.spec.volumes.find((v: { name: string }) => v.name === 'templates');
    expect(volume.configMap.name).toBe('aws-access-templates');
  });

  it('rolls the pods when the config changes', async () => {
    const checksum = (r: Rendered) =>
      find(r, 'Deployment', 'aws-access-bot-web')!.spec.template.metadata.annotations['checksum/config'];
    const [again, changed] = await Promise.all([
      render(),
      render({ config: { hygiene: { mode: 'enforce' } } }),
    ]);
    expect(checksum(again)).toBe(checksum(defaults));
    expect(checksum(changed)).not.toBe(checksum(defaults));
  });

  it('creates a PodDisruptionBudget only for a role with more than one replica', async () => {
    const r = await render({ web: { replicas: 1 } });
    expect(find(r, 'PodDisruptionBudget', 'aws-access-bot-web')).toBeUndefined();
    const workerBudget = find(r, 'PodDisruptionBudget', 'aws-access-bot-worker')!;
    expect(workerBudget.spec).toEqual({
      minAvailable: 1,
      selector: { matchLabels: find(r, 'Deployment', 'aws-access-bot-worker')!.spec.selector.matchLabels },
    });
  });

  it('routes the Service to web pods only, on port 3000', () => {
    const service = find(defaults, 'Service', 'aws-access-bot')!;
    expect(service.spec.ports).toEqual([{ name: 'http', port: 3000, targetPort: 'http', protocol: 'TCP' }]);
    expect(service.spec.selector).toEqual(
      find(defaults, 'Deployment', 'aws-access-bot-web')!.spec.selector.matchLabels,
    );
  });

  it('publishes only /slack/events through the optional Ingress (HTTP mode)', async () => {
    expect(defaults.objects.some((o) => o.kind === 'Ingress')).toBe(false);
    const values = {
      ingress: {
        enabled: true,
        className: 'nginx',
        host: 'bot.example.com',
        tls: [{ secretName: 't', hosts: ['bot.example.com'] }],
      },
    };
    const [r, notes] = await Promise.all([render(values), renderNotes({ ...base, ...values })]);
    const ingress = find(r, 'Ingress', 'aws-access-bot')!;
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.spec.tls).toEqual([{ secretName: 't', hosts: ['bot.example.com'] }]);
    expect(ingress.spec.rules).toEqual([
      {
        host: 'bot.example.com',
        http: {
          paths: [
            {
              path: '/slack/events',
              pathType: 'Exact',
              backend: { service: { name: 'aws-access-bot', port: { name: 'http' } } },
            },
          ],
        },
      },
    ]);
    expect(notes).toContain('https://bot.example.com/slack/events');
  });

  it('points at Socket Mode when no Ingress is published', async () => {
    const notes = await renderNotes(base);
    expect(notes).toContain('No Ingress: run in Socket Mode (SLACK_APP_TOKEN in aws-access-bot)');
  });

  it('annotates the ServiceAccount for IRSA, or uses an existing one', async () => {
    const arn = 'arn:aws:iam::999999999999:role/aws-access-bot';
    const [irsa, existing] = await Promise.all([
      render({ serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': arn } } }),
      render({ serviceAccount: { create: false, name: 'shared-bot' } }),
    ]);
    const account = find(irsa, 'ServiceAccount', 'aws-access-bot')!;
    expect(account.metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': arn });
    expect(account.automountServiceAccountToken).toBe(false);
    for (const deployment of deployments(irsa))
      expect(deployment.spec.template.spec.serviceAccountName).toBe('aws-access-bot');
    expect(existing.objects.some((o) => o.kind === 'ServiceAccount')).toBe(false);
    for (const deployment of deployments(existing))
      expect(deployment.spec.template.spec.serviceAccountName).toBe('shared-bot');
  });

  it('gives each role the resources set for it', async () => {
    const web = { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } };
    const worker = { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '2Gi' } };
    const r = await render({ web: { resources: web }, worker: { resources: worker } });
    expect(container(find(r, 'Deployment', 'aws-access-bot-web')!).resources).toEqual(web);
    expect(container(find(r, 'Deployment', 'aws-access-bot-worker')!).resources).toEqual(worker);
  });

  it('uses the image tag, or the chart appVersion when none is given', async () => {
    const image = (r: Rendered) => container(find(r, 'Deployment', 'aws-access-bot-web')!).image;
    expect(image(defaults)).toBe('ghcr.io/example/aws-access-bot:0.1.0');
    expect(image(await render({ image: { tag: '1.2.3' } }))).toBe('ghcr.io/example/aws-access-bot:1.2.3');
  });
});
