/**
 * `npm run bench` runs every bench; `npm run bench -- ack storm` runs the named ones.
 * Each bench starts its own throwaway redis-server (and moto_server when it needs AWS), the fake
 * Slack and the real service on loopback, and stops them. Results go to bench/results/<name>.json
 * and to the generated sections of docs/benchmarks.md (`--no-write` leaves both alone).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { accessBench } from './access.js';
import { ackBench } from './ack.js';
import { awsBench } from './aws.js';
import { fleetBench } from './fleet.js';
import { hygieneBench } from './hygiene.js';
import { identityCenterBench } from './identity-center.js';
import { postureBench } from './posture.js';
import { revokeBench } from './revoke.js';
import { revokeScaleBench } from './revoke-scale.js';
import { stormBench } from './storm.js';
import { storeBench } from './store.js';
import { machineInfo } from './support/infra.js';
import { replaceSection, table, writeJson, type BenchResult } from './support/report.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DOC = path.join(ROOT, 'docs', 'benchmarks.md');
const RESULTS = path.join(ROOT, 'bench', 'results');

const BENCHES: Record<string, { about: string; run: () => Promise<BenchResult> }> = {
  ack: {
    about: 'slash-command ack latency (help, one-line request) beside bare Bolt at concurrency 1/16/64',
    run: ackBench,
  },
  storm: { about: 'approval storm: 20 concurrent Approve clicks per pending request', run: stormBench },
  revoke: { about: 'revoke lateness: short grants revoked by the grants worker', run: revokeBench },
  'revoke-scale': {
    about: 'revocation at scale: 10,000 grants ending within 60 s, recording and throttled stand-in engines',
    run: revokeScaleBench,
  },
  aws: { about: 'grant / extend / revoke / reconcile latency on moto through the AWS SDK', run: awsBench },
  store: {
    about: 'request store transitions and audit appends in Redis; audit verify of 10,000',
    run: storeBench,
  },
  hygiene: {
    about: 'credential sweep time and IAM calls for 200 and 1,000 users on moto',
    run: hygieneBench,
  },
  access: {
    about: 'approval click → delivery DM with a simulated IAM propagation delay (4–10 s); STS calls',
    run: accessBench,
  },
  fleet: {
    about: 'reconcile and hygiene across 1,000 accounts on a throttling AWS stand-in (4–6 min)',
    run: fleetBench,
  },
  'identity-center': {
    about: 'Identity Center grant / revoke on moto; the bot’s part of the live-session window',
    run: identityCenterBench,
  },
  posture: {
    about: 'IAM posture review time (beside its read floor), IAM calls, simulations for 200 and 1,000 users',
    run: postureBench,
  },
};

function usage(): string {
  return [
    'Usage: npm run bench [-- [--no-write] [NAME ...]]',
    '',
    ...Object.entries(BENCHES).map(([name, b]) => `  ${name.padEnd(12)} ${b.about}`),
  ].join('\n');
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('-h') || args.includes('--help')) {
    console.log(usage());
    return 0;
  }
  const write = !args.includes('--no-write');
  const names = args.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !BENCHES[n]);
  if (unknown.length) {
    console.error(`unknown bench: ${unknown.join(', ')}\n\n${usage()}`);
    return 2;
  }
  const selected = names.length ? names : Object.keys(BENCHES);
  const machine = machineInfo();
  console.error(
    `machine: ${machine.nproc} cores (${machine.cpu}), node ${machine.node}, redis ${machine.redis}, moto ${machine.moto}`,
  );
  const results: BenchResult[] = [];
  let failed = 0;
  const started = performance.now();
  for (const name of selected) {
    console.error(`\n== ${name}: ${BENCHES[name]!.about}`);
    try {
      const result = await BENCHES[name]!.run();
      results.push(result);
      const bad = result.checks.filter((c) => !c.ok && !c.skipped);
      failed += bad.length;
      console.log(
        `\n### ${result.title} (${(result.elapsedMs / 1000).toFixed(1)} s)\n\n${result.markdown}\n`,
      );
      if (write) {
        writeJson(RESULTS, name, { machine, ...result });
        replaceSection(
          DOC,
          name,
          `${result.markdown}\n\n<sub>bench \`${name}\`, ${machine.date}, ${(result.elapsedMs / 1000).toFixed(0)} s wall time</sub>`,
        );
      }
    } catch (error) {
      failed += 1;
      console.error(`bench ${name} failed:`, error);
    }
  }
  if (write && results.length) {
    replaceSection(
      DOC,
      'machine',
      table(
        ['cores (nproc)', 'CPU', 'memory', 'Node.js', 'OS', 'redis-server', 'moto', 'load avg at start'],
        [
          [
            machine.nproc,
            machine.cpu,
            `${machine.memoryGiB} GiB`,
            machine.node,
            machine.platform,
            machine.redis,
            machine.moto,
            machine.loadAverage,
          ],
        ],
      ),
    );
  }
  console.error(
    `\n${selected.length} bench(es) in ${((performance.now() - started) / 1000).toFixed(1)} s; ${failed} failed check(s)`,
  );
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
