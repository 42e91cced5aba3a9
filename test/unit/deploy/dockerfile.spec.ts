import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { declaredVariables, readDockerfile, words, type Stage } from './support/dockerfile.js';
import { isIgnored, parseDockerignore } from './support/dockerignore.js';
import { repoPath } from './support/paths.js';

const dockerfile = readDockerfile(repoPath('Dockerfile'));
const build = dockerfile.stages[0]!;
const runtime = dockerfile.stages.at(-1)!;
const packageJson = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as {
  bin: Record<string, string>;
};

/** Paths COPY takes from the build context (not from another stage). */
function contextSources(): string[] {
  return dockerfile.stages
    .flatMap((s) => s.instructions)
    .filter((i) => i.keyword === 'COPY' && !i.args.includes('--from='))
    .flatMap((i) => words(i.args).slice(0, -1));
}

function runs(stage: Stage): string[] {
  return stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
}
function last(stage: Stage, keyword: string): string | undefined {
  return stage.instructions.filter((i) => i.keyword === keyword).at(-1)?.args;
}

describe('Dockerfile', () => {
  it('compiles in a separate build stage that has the dev dependencies', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    expect(build.name).toBeDefined();
    const buildRuns = runs(build);
    expect(buildRuns.some((r) => /\bnpm ci\b/.test(r) && !/--omit[= ]dev|--production/.test(r))).toBe(true);
    expect(buildRuns.some((r) => /\bnpm run build\b/.test(r))).toBe(true);
  });

  it('gives the build stage every file `npm run build` uses, and the build puts the Lua scripts in dist/', () => {
    const buildScript = (
      JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts.build!;
    const needed = buildScript.match(/(scripts\/[\w.-]+|tsconfig[\w.]*\.json)/g) ?? [];
    expect(needed.length).toBeGreaterThan(0);
    const copied = build.instructions
      .filter((i) => i.keyword === 'COPY' && !i.args.includes('--from='))
      .flatMap((i) => words(i.args).slice(0, -1));
    for (const file of needed)
      expect(copied.some((src) => file === src || file.startsWith(`${src}/`))).toBe(true);

    // The asset step of the build, run for real on a scratch tree.
    const assetStep = needed.find((f) => f.startsWith('scripts/'))!;
    const work = mkdtempSync(join(tmpdir(), 'aab-docker-'));
    try {
      mkdirSync(join(work, 'scripts'));
      writeFileSync(join(work, assetStep), readFileSync(repoPath(assetStep)));
      mkdirSync(join(work, 'src', 'store', 'lua'), { recursive: true });
      writeFileSync(join(work, 'src', 'store', 'lua', 'transition.lua'), 'return 1');
      execFileSync(process.execPath, [assetStep], { cwd: work });
      expect(readFileSync(join(work, 'dist', 'store', 'lua', 'transition.lua'), 'utf8')).toBe('return 1');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('builds and runs on node:24-slim (the current LTS) with production dependencies and the compiled dist/ only', () => {
    expect(build.image).toBe('node:24-slim');
    expect(runtime.image).toBe('node:24-slim');
    const runtimeRuns = runs(runtime);
    expect(runtimeRuns.some((r) => /\bnpm ci\b.*--omit=dev/.test(r))).toBe(true);
    expect(runtimeRuns.some((r) => /npm run build|\btsc\b/.test(r))).toBe(false);
    const copies = runtime.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(copies).toContain(`--from=${build.name} /app/dist ./dist`);
    expect(copies.some((c) => /(^|\s)src(\s|\/)/.test(c))).toBe(false);
  });

  it('is the Node major that CI runs the test suite on a second time (scripts/lts-node.sh)', () => {
    const pinned = /^version=(\d+)\.\d+\.\d+$/m.exec(readFileSync(repoPath('scripts/lts-node.sh'), 'utf8'));
    expect(pinned).not.toBeNull();
    expect(runtime.image).toBe(`node:${pinned![1]}-slim`);
  });

  it('runs as a numeric non-root user', () => {
    const user = last(runtime, 'USER');
    expect(user).toBeDefined();
    const [uid] = user!.split(':');
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
  });

  it('starts the CLI under tini so SIGTERM reaches node and zombies are reaped', () => {
    expect(runs(runtime).some((r) => /apt-get install\b.*\btini\b/.test(r))).toBe(true);
    const entrypoint = words(last(runtime, 'ENTRYPOINT') ?? '[]');
    expect(entrypoint[0]).toMatch(/(^|\/)tini$/);
    expect(entrypoint).toContain('--');
    expect(entrypoint.slice(-2)).toEqual(['node', packageJson.bin['aws-access-bot']]);
  });

  it('sets NODE_ENV=production', () => {
    const env = declaredVariables(runtime).filter((v) => v.keyword === 'ENV');
    expect(env).toContainEqual({ keyword: 'ENV', key: 'NODE_ENV', value: 'production' });
  });

  it('ships the boundary templates and the example config', () => {
    const copies = runtime.instructions.filter((i) => i.keyword === 'COPY').map((i) => words(i.args));
    expect(copies).toContainEqual(['templates', './templates']);
    expect(copies).toContainEqual(['config/example.yaml', './config/example.yaml']);
  });

  it('exposes port 3000 and starts every role by default', () => {
    expect(last(runtime, 'EXPOSE')).toBe('3000');
    expect(words(last(runtime, 'CMD') ?? '[]')).toEqual(['start', '--role', 'all']);
  });

  it('bakes no secret into the image', () => {
    for (const stage of dockerfile.stages) {
      for (const v of declaredVariables(stage)) {
        expect(v.key, `${v.keyword} ${v.key}`).not.toMatch(
          /SECRET|TOKEN|PASSWORD|PRIVATE|ACCESS_KEY|REDIS_URL/i,
        );
        expect(v.value, `${v.keyword} ${v.key}`).not.toMatch(/xox[abposr]-|xapp-|AKIA[0-9A-Z]{12}/);
      }
    }
    for (const source of contextSources()) {
      expect(source).not.toMatch(/(^|\/)\.env|\.pem$|\.key$|aws-access\.yaml$/);
    }
  });

  it('copies only files that .dockerignore lets into the build context', () => {
    const rules = parseDockerignore(readFileSync(repoPath('.dockerignore'), 'utf8'));
    const sources = contextSources();
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'src', 'templates']));
    for (const source of sources) {
      expect(isIgnored(rules, source), `${source} is in the build context`).toBe(false);
    }
  });

  it('copies only files that exist in the repository', () => {
    for (const source of contextSources().filter((s) => s !== 'templates')) {
      expect(existsSync(repoPath(source)), `${source} exists`).toBe(true);
    }
  });

  // `docker build` stops at `COPY templates` without it.
  it('finds the templates/ directory the image copies', () => {
    expect(existsSync(repoPath('templates'))).toBe(true);
  });

  it('keeps local secrets, real config and node_modules out of the build context', () => {
    const rules = parseDockerignore(readFileSync(repoPath('.dockerignore'), 'utf8'));
    for (const path of [
      '.env',
      '.env.production',
      'config/aws-access.yaml',
      'node_modules/x',
      '.git/config',
    ]) {
      expect(isIgnored(rules, path), path).toBe(true);
    }
  });
});
