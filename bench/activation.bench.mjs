#!/usr/bin/env node
// Activation of the extension in the real extension host (code-server's, on Node 24): `ext.activate()` timed by
// test/vscode/suite/activation.test.ts in a fresh window each time, median of N (default 7) fresh starts.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.env.BENCH_RUNS ?? 7);
spawnSync(process.execPath, [path.join(root, 'esbuild.mjs')], { cwd: root, stdio: 'inherit' });
const ms = [];
for (let i = 0; i < runs; i++) {
  const r = spawnSync(process.execPath, [path.join(root, 'test/vscode/run-extension-tests.mjs')], {
    cwd: root,
    env: { ...process.env, LOSS_LENS_SUITE_GREP: '^activation' },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`activation run ${i} failed:\n${r.stdout}\n${r.stderr}`);
  const m = JSON.parse(readFileSync(path.join(root, 'test-results', 'activation.json'), 'utf8'));
  if (m.wasActive) throw new Error('the extension was already active: not a cold activation');
  ms.push(m.ms);
}
ms.sort((a, b) => a - b);
const median = ms[Math.floor(ms.length / 2)];
console.log(`activation (ext.activate() in a fresh extension host), ${runs} runs: median ${median.toFixed(1)} ms, min ${ms[0].toFixed(1)}, max ${ms.at(-1).toFixed(1)}`);
console.log(`all: ${ms.map((x) => x.toFixed(1)).join(' ')}  load average ${(await import('node:os')).loadavg()[0].toFixed(2)}`);
