// The package registry this project installs from lacks some platform builds of
// msgpackr-extract (an optional native speed-up of BullMQ's msgpackr). npm then leaves them out
// of package-lock.json and `npm ci` refuses the lock. This adds them back as optional entries for
// other platforms, which npm ci skips on Linux x64. Run after `npm install`.
import { readFileSync, writeFileSync } from 'node:fs';

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const platforms = {
  'darwin-arm64': ['darwin', 'arm64'],
  'darwin-x64': ['darwin', 'x64'],
  'linux-arm': ['linux', 'arm'],
  'linux-arm64': ['linux', 'arm64'],
  'linux-x64': ['linux', 'x64'],
  'win32-x64': ['win32', 'x64'],
};
const parent = lock.packages['node_modules/msgpackr-extract'];
let added = 0;
if (parent) {
  for (const [name, [os, cpu]] of Object.entries(platforms)) {
    const key = `node_modules/@msgpackr-extract/msgpackr-extract-${name}`;
    if (lock.packages[key]) continue;
    lock.packages[key] = { version: parent.version, cpu: [cpu], license: 'MIT', optional: true, os: [os] };
    added++;
  }
}
const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
lock.packages = sorted;
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: added ${added} optional platform entries`);
