import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { TemplateRenderer } from './support/go-template.js';
import { find, renderChart, type K8sObject } from './support/helm-render.js';

const base = { existingSecret: 'aws-access-bot' };
const render = (overrides: Record<string, unknown> = {}) => renderChart({ ...base, ...overrides });

function container(deployment: K8sObject) {
  return deployment.spec.template.spec.containers[0];
}

function envOf(deployment: K8sObject): Record<string, { value?: string; valueFrom?: unknown }> {
  return Object.fromEntries(container(deployment).env.map((e: { name: string }) => [e.name, e]));
}

describe('the Go-template subset used to render the chart', () => {
  const renderOne = (source: string, data: unknown, defines = '') => {
    const r = new TemplateRenderer();
    r.addFile('defs.tpl', defines);
    r.addFile('t', source);
    return r.render('t', data);
  };

  it('trims around {{- and -}} and renders if/else, with, range and include', () => {
    const defines = '{{- define "greet" -}}hi {{ .name }}{{- end }}';
    const source = `a:
  {{- if .on }} on{{ else }} off{{ end }}
{{- with .who }}
b: {{ include "greet" . | quote }}
{{- end }}
{{- range $k, $v := .m }}
{{ $k }}={{ $v }}
{{- end }}`;
    expect(renderOne(source, { on: false, who: { name: 'bo' }, m: { y: 2, x: 1 } }, defines)).toBe(
      'a: off\nb: "hi bo"\nx=1\ny=2',
    );
  });

  it('refuses functions it does not implement instead of rendering them wrongly', () => {
    expect(() => renderOne('{{ tpl .x . }}', { x: 'y' })).toThrow(/tpl/);
  });
});

describe('rendered Helm chart', () => {
  it('refuses to render without existingSecret', () => {
    expect(() => renderChart()).toThrow(/existingSecret must name a Secret/);
  });

  it('renders web and worker Deployments, a Service, a ServiceAccount, the config and two budgets by default', () => {
    const kinds = render()
      .objects.map((o) => `${o.kind}/${o.metadata.name}`)
      .sort();
    expect(kinds).toEqual([
      'ConfigMap/aws-access-bot-config',
      'Deployment/aws-access-bot-web',
      'Deployment/aws-access-bot-worker',
      'PodDisruptionBudget/aws-access-bot-web',
      'PodDisruptionBudget/aws-access-bot-worker',
      'Service/aws-access-bot',
      'ServiceAccount/aws-access-bot',
    ]);
  });

  it('starts each Deployment with its own --role', () => {
    const r = render();
    for (const role of ['web', 'worker']) {
      const deployment = find(r, 'Deployment', `aws-access-bot-${role}`)!;
      expect(container(deployment).args).toEqual(['start', '--role', role]);
      expect(deployment.spec.selector.matchLabels).toEqual(
        expect.objectContaining({ 'app.kubernetes.io/component': role }),
      );
      expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
    }
  });

  it('scales web and worker separately', () => {
    const r = render({ web: { replicas: 3 }, worker: { replicas: 5 } });
    expect(find(r, 'Deployment', 'aws-access-bot-web')!.spec.replicas).toBe(3);
    expect(find(r, 'Deployment', 'aws-access-bot-worker')!.spec.replicas).toBe(5);
  });

  it('probes /healthz for liveness and /readyz for readiness on the container port', () => {
    for (const deployment of render().objects.filter((o) => o.kind === 'Deployment')) {
      const c = container(deployment);
      expect(c.ports).toEqual([{ name: 'http', containerPort: 3000, protocol: 'TCP' }]);
      expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    }
  });

  it('runs pods non-root, read-only, without capabilities or privilege escalation, with /tmp on an emptyDir', () => {
    for (const deployment of render().objects.filter((o) => o.kind === 'Deployment')) {
      const pod = deployment.spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
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
    const r = render();
    expect(
      find(r, 'Deployment', 'aws-access-bot-worker')!.spec.template.spec.terminationGracePeriodSeconds,
    ).toBe(120);
    expect(
      find(r, 'Deployment', 'aws-access-bot-web')!.spec.template.spec.terminationGracePeriodSeconds,
    ).toBe(30);
  });

  it('takes every secret from existingSecret and none from values', () => {
    const r = render({ extraEnv: [{ name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' }] });
    const env = envOf(find(r, 'Deployment', 'aws-access-bot-web')!);
    for (const key of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'REDIS_URL']) {
      expect(env[key]!.value, key).toBeUndefined();
      expect(env[key]!.valueFrom).toMatchObject({ secretKeyRef: { name: 'aws-access-bot', key } });
    }
    expect(env.SLACK_APP_TOKEN!.valueFrom).toMatchObject({ secretKeyRef: { optional: true } });
    expect(env.SLACK_BOT_TOKEN!.valueFrom).not.toMatchObject({ secretKeyRef: { optional: true } });
    expect(env.AWS_STS_REGIONAL_ENDPOINTS).toEqual({ name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' });
  });

  it('mounts a valid config file where AWS_ACCESS_CONFIG points, using the templates built into the image', () => {
    const r = render();
    const web = find(r, 'Deployment', 'aws-access-bot-web')!;
    const path = envOf(web).AWS_ACCESS_CONFIG!.value!;
    const mount = container(web).volumeMounts.find((m: { mountPath: string }) => m.mountPath === path);
    expect(mount).toMatchObject({ name: 'config', subPath: 'aws-access.yaml', readOnly: true });
    const configMap = find(r, 'ConfigMap', 'aws-access-bot-config')!;
    const config = parse(configMap.data['aws-access.yaml']);
    expect(config.templates).toEqual({ directory: '/app/templates' });
    const result = configSchema.safeParse(config);
    expect(result.success, JSON.stringify(result.error?.issues)).toBe(true);
  });

  it('renders boundary templates into a ConfigMap mounted where templates.directory points', () => {
    const template = { name: 'readonly', description: 'Read-only', boundary: { Version: '2012-10-17' } };
    const r = render({ boundaryTemplates: { 'readonly.yaml': template, 'raw.yaml': 'name: raw\n' } });
    const templates = find(r, 'ConfigMap', 'aws-access-bot-templates')!;
    expect(parse(templates.data['readonly.yaml'])).toEqual(template);
    expect(parse(templates.data['raw.yaml'])).toEqual({ name: 'raw' });
    const config = parse(find(r, 'ConfigMap', 'aws-access-bot-config')!.data['aws-access.yaml']);
    const worker = find(r, 'Deployment', 'aws-access-bot-worker')!;
    const mount = container(worker).volumeMounts.find((m: { name: string }) => m.name === 'templates');
    expect(mount.mountPath).toBe(config.templates.directory);
    const volume = worker.spec.template.spec.volumes.find((v: { name: string }) => v.name === 'templates');
    expect(volume.configMap.name).toBe('aws-access-bot-templates');
  });

  it('rolls the pods when the config changes', () => {
    const checksum = (r: ReturnType<typeof render>) =>
      find(r, 'Deployment', 'aws-access-bot-web')!.spec.template.metadata.annotations['checksum/config'];
    expect(checksum(render())).toBe(checksum(render()));
    expect(checksum(render({ config: { hygiene: { mode: 'enforce' } } }))).not.toBe(checksum(render()));
  });

  it('creates a PodDisruptionBudget only for a role with more than one replica', () => {
    const r = render({ web: { replicas: 1 } });
    expect(find(r, 'PodDisruptionBudget', 'aws-access-bot-web')).toBeUndefined();
    const workerBudget = find(r, 'PodDisruptionBudget', 'aws-access-bot-worker')!;
    expect(workerBudget.spec).toEqual({
      minAvailable: 1,
      selector: { matchLabels: find(r, 'Deployment', 'aws-access-bot-worker')!.spec.selector.matchLabels },
    });
  });

  it('routes the Service to web pods only, on port 3000', () => {
    const r = render();
    const service = find(r, 'Service', 'aws-access-bot')!;
    expect(service.spec.ports).toEqual([{ name: 'http', port: 3000, targetPort: 'http', protocol: 'TCP' }]);
    expect(service.spec.selector).toEqual(
      find(r, 'Deployment', 'aws-access-bot-web')!.spec.selector.matchLabels,
    );
  });

  it('publishes only /slack/events through the optional Ingress', () => {
    expect(render().objects.some((o) => o.kind === 'Ingress')).toBe(false);
    const r = render({
      ingress: {
        enabled: true,
        className: 'nginx',
        host: 'bot.example.com',
        tls: [{ secretName: 't', hosts: ['bot.example.com'] }],
      },
    });
    const ingress = find(r, 'Ingress', 'aws-access-bot')!;
    expect(ingress.spec.ingressClassName).toBe('nginx');
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
    expect(r.notes).toContain('https://bot.example.com/slack/events');
  });

  it('annotates the ServiceAccount for IRSA, or uses an existing one', () => {
    const arn = 'arn:aws:iam::999999999999:role/aws-access-bot';
    const r = render({ serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': arn } } });
    expect(find(r, 'ServiceAccount', 'aws-access-bot')!.metadata.annotations).toEqual({
      'eks.amazonaws.com/role-arn': arn,
    });
    const existing = render({ serviceAccount: { create: false, name: 'shared-bot' } });
    expect(existing.objects.some((o) => o.kind === 'ServiceAccount')).toBe(false);
    expect(find(existing, 'Deployment', 'aws-access-bot-web')!.spec.template.spec.serviceAccountName).toBe(
      'shared-bot',
    );
  });

  it('uses the image tag, or the chart appVersion when none is given', () => {
    const image = (r: ReturnType<typeof render>) =>
      container(find(r, 'Deployment', 'aws-access-bot-web')!).image;
    expect(image(render())).toBe('ghcr.io/example/aws-access-bot:0.1.0');
    expect(image(render({ image: { tag: '1.2.3' } }))).toBe('ghcr.io/example/aws-access-bot:1.2.3');
  });
});
