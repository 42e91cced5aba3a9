/**
 * The chart keeps the app's shutdown deadline inside the pod's grace period: `start` gets
 * `--shutdown-timeout` = terminationGracePeriodSeconds - 5 and the web role a drain inside it
 * (docs/reliability.md, graceful shutdown).
 */
import { describe, expect, it } from 'vitest';
import { shutdownOptions } from '../../../src/cli/start.js';
import { find, renderChart, type Rendered } from './support/helm.js';

const base = { existingSecret: 'aws-access-bot' };

function startArgs(r: Rendered, role: 'web' | 'worker') {
  const deployment = find(r, 'Deployment', `aws-access-bot-${role}`)!;
  const pod = deployment.spec.template.spec;
  const args = pod.containers[0].args as string[];
  const flag = (name: string) => args[args.indexOf(name) + 1];
  return {
    grace: pod.terminationGracePeriodSeconds as number,
    args,
    timeout: flag('--shutdown-timeout'),
    drain: flag('--drain'),
  };
}

describe('the chart and the shutdown deadline', () => {
  it("derives each role's deadline from its grace period; the web role drains 5 s inside it", async () => {
    const r = await renderChart(base);
    const web = startArgs(r, 'web');
    const worker = startArgs(r, 'worker');
    expect(web.args.slice(0, 3)).toEqual(['start', '--role', 'web']);
    expect(web).toMatchObject({ grace: 30, timeout: '25', drain: '5' });
    expect(worker).toMatchObject({ grace: 120, timeout: '115', drain: '0' });
    // The app accepts what the chart passes, and its deadline ends before the kubelet's SIGKILL.
    for (const role of [web, worker]) {
      const options = shutdownOptions(role.timeout, role.drain);
      expect(options.timeoutMs).toBeLessThan(role.grace * 1000);
      expect(options.drainMs).toBeLessThan(options.timeoutMs);
    }
  });

  it('follows a changed grace period', async () => {
    const r = await renderChart({
      ...base,
      web: { terminationGracePeriodSeconds: 45, shutdownDrainSeconds: 10 },
    });
    expect(startArgs(r, 'web')).toMatchObject({ grace: 45, timeout: '40', drain: '10' });
  });

  it('refuses a drain that leaves no time to finish the requests in progress', async () => {
    await expect(
      renderChart({ ...base, web: { terminationGracePeriodSeconds: 20, shutdownDrainSeconds: 15 } }),
    ).rejects.toThrow(
      /web.terminationGracePeriodSeconds must exceed web.shutdownDrainSeconds by more than 5/,
    );
  });
});
