#!/usr/bin/env node
// `npm run test:python`: the Python runner's pytest suite (test/python), run with the project venv that
// `npm run setup:python` makes (pretest runs it). pytest's own summary line (its pass count) is the output.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const venv = path.join(ROOT, '.cache', 'python-venv');
const python = process.platform === 'win32' ? path.join(venv, 'Scripts', 'python.exe') : path.join(venv, 'bin', 'python');
if (!existsSync(python)) {
  console.error(`test:python: no ${path.relative(ROOT, venv)}; run \`npm run setup:python\` first.`);
  process.exit(1);
}
// -p no:cacheprovider: nothing written into the repository besides what the tests make in their temp folders.
const r = spawnSync(python, ['-m', 'pytest', 'test/python', '-p', 'no:cacheprovider', '-ra', ...process.argv.slice(2)], { cwd: ROOT, stdio: 'inherit' });
process.exit(r.status ?? 1);
