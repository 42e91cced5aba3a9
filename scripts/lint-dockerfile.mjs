// Lints Dockerfiles with dockerfile-utils (the validator behind the VS Code Docker language
// server). Its own CLI (`dockerfile-utils lint`) exits 0 on warnings; here every finding,
// warning or error, is printed as `file:line:column severity message` and fails the run.
// Usage: node scripts/lint-dockerfile.mjs [Dockerfile ...]   (default: Dockerfile)
import { readFileSync } from 'node:fs';
import dockerfileUtils from 'dockerfile-utils';

const { validate } = dockerfileUtils;
const files = process.argv.slice(2);
if (files.length === 0) files.push('Dockerfile');

let findings = 0;
for (const file of files) {
  const diagnostics = validate(readFileSync(file, 'utf8')).sort(
    (a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character,
  );
  for (const d of diagnostics) {
    findings += 1;
    const severity = d.severity === 1 ? 'error' : 'warning';
    console.log(`${file}:${d.range.start.line + 1}:${d.range.start.character + 1} ${severity} ${d.message}`);
  }
}
console.log(`dockerfile-utils: ${findings} finding(s) in ${files.join(', ')}`);
process.exitCode = findings === 0 ? 0 : 1;
