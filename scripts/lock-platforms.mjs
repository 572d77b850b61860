#!/usr/bin/env node
/**
 * The npm registry this project is built from lacks some platform builds of Biome
 * (@biomejs/cli-darwin-*, -win32-*, -*-musl), so `npm install` leaves them out of
 * package-lock.json and `npm ci` then refuses the lock as out of sync. This adds a lock entry
 * for each missing optional platform package with its os/cpu/libc, which npm skips on other
 * platforms without fetching. Run after `npm install` changes the lock: `node scripts/lock-platforms.mjs`.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const PLATFORM = {
  'android-arm64': { os: ['android'], cpu: ['arm64'] },
  'android-x64': { os: ['android'], cpu: ['x64'] },
  'darwin-arm64': { os: ['darwin'], cpu: ['arm64'] },
  'darwin-x64': { os: ['darwin'], cpu: ['x64'] },
  'linux-arm64-musl': { os: ['linux'], cpu: ['arm64'], libc: ['musl'] },
  'linux-x64-musl': { os: ['linux'], cpu: ['x64'], libc: ['musl'] },
  'win32-arm64': { os: ['win32'], cpu: ['arm64'] },
  'win32-x64': { os: ['win32'], cpu: ['x64'] },
};

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
let added = 0;
for (const [key, pkg] of Object.entries(lock.packages)) {
  for (const [dep, version] of Object.entries(pkg.optionalDependencies ?? {})) {
    const where = `node_modules/${dep}`;
    const suffix = Object.keys(PLATFORM).find((p) => dep.endsWith(`-${p}`));
    if (lock.packages[where] || !suffix) continue;
    lock.packages[where] = { version, dev: pkg.dev, optional: true, license: pkg.license, ...PLATFORM[suffix] };
    added += 1;
    console.log(`added ${where}@${version} (optional dependency of ${key || 'root'})`);
  }
}
if (added > 0) writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(added > 0 ? `package-lock.json: ${added} platform entries added` : 'package-lock.json: nothing to add');
