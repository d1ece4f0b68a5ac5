#!/usr/bin/env node
// Installs the Debian packages the browser and VS Code tests need, when they are missing.
// CI starts from a fresh machine, so `npm test` must be able to get them from nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const wanted = [
  { pkg: 'chromium', present: () => existsSync('/usr/bin/chromium') },
  // code-server's kerberos native module needs the gssapi headers to compile.
  { pkg: 'libkrb5-dev', present: () => existsSync('/usr/include/gssapi/gssapi.h') || existsSync('/usr/include/krb5.h') },
  // The Python runner's tests (npm run setup:python makes a venv): a python3 that has venv and ensurepip.
  { pkg: 'python3-venv', present: () => spawnSync('python3', ['-c', 'import ensurepip, venv'], { stdio: 'ignore' }).status === 0 },
];

// `--only pkg` limits the check (the main job needs only what code-server compiles against).
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt > 0 ? process.argv.slice(onlyAt + 1) : null;
const missing = wanted.filter((w) => (!only || only.includes(w.pkg)) && !w.present()).map((w) => w.pkg);
if (missing.length === 0) process.exit(0);

if (process.getuid?.() !== 0) {
  console.error(`Missing system packages: ${missing.join(' ')}. Install them with: sudo apt-get install -y ${missing.join(' ')}`);
  process.exit(1);
}
console.log(`Installing ${missing.join(' ')} from Debian…`);
const run = (args) => execFileSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
try {
  run(['install', '-y', '--no-install-recommends', ...missing]);
} catch {
  run(['update']);
  run(['install', '-y', '--no-install-recommends', ...missing]);
}
