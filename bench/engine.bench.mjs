#!/usr/bin/env node
// Engine benchmarks (issue: the engine and its CLI):
// 1. probe overhead: steps/s with no instrumentation vs the full per-step probes, same runner, backend
//    and kernels, alternating A/B, median ratio (goal ≤ 1.05, aim ≤ 1.02);
// 2. tape capture on a 1,000-layer model;
// 3. time from command to first report for a small script.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Inside the repo (git-ignored) so the bundle resolves esbuild and tfjs from node_modules.
const tmp = path.join(root, 'bench', 'out');
mkdirSync(tmp, { recursive: true });
spawnSync(process.execPath, [path.join(root, 'esbuild.mjs')], { cwd: root, stdio: 'inherit' });
const sessionJs = path.join(tmp, 'run-session.cjs');
await esbuild.build({
  entryPoints: [path.join(root, 'src/engine/run-session.ts')],
  outfile: sessionJs,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  external: ['esbuild'],
  logLevel: 'error',
});
const { runScript } = createRequire(import.meta.url)(sessionJs);
const runner = path.join(root, 'dist', 'runner.js');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function stepsPerSecond(script, instrument) {
  let out = '';
  const outcome = await runScript({
    scriptPath: path.join(root, 'bench/scripts', script),
    steps: 1_000_000,
    timeoutSeconds: 600,
    backend: 'wasm',
    instrument,
    runnerPath: runner,
    toolVersion: 'bench',
    cwd: root,
    onOutput: (_s, t) => (out += t),
  });
  const m = /BENCH_STEPS_PER_S ([\d.]+)/.exec(out);
  if (!m) throw new Error(`${script} printed no timing (status ${outcome.state.status}): ${out.slice(-500)}`);
  return Number(m[1]);
}

const results = {};
for (const [script, pairs] of [['mlp.ts', 7], ['cnn.ts', 7]]) {
  const ratios = [];
  const plain = [];
  const probed = [];
  for (let i = 0; i < pairs; i++) {
    // Alternate the order so drift on a shared machine hits both sides alike.
    const [a, b] = i % 2 === 0 ? [false, true] : [true, false];
    const ra = await stepsPerSecond(script, a);
    const rb = await stepsPerSecond(script, b);
    const off = a ? rb : ra;
    const on = a ? ra : rb;
    plain.push(off);
    probed.push(on);
    ratios.push(off / on);
  }
  results[script] = { plain: median(plain), probed: median(probed), ratio: median(ratios), ratios };
  console.log(
    `${script}: uninstrumented ${median(plain).toFixed(2)} steps/s, instrumented ${median(probed).toFixed(2)} steps/s, ` +
      `median slowdown ×${median(ratios).toFixed(3)} over ${pairs} pairs (${ratios.map((r) => r.toFixed(3)).join(' ')})`,
  );
}

// Tape capture on 1,000 layers: the graph event carries its own capture time.
{
  const captures = [];
  for (let i = 0; i < 3; i++) {
    const o = await runScript({
      scriptPath: path.join(root, 'test/fixtures/scripts/thousand-layers.ts'),
      steps: 3,
      timeoutSeconds: 300,
      backend: 'wasm',
      runnerPath: runner,
      toolVersion: 'bench',
      cwd: root,
    });
    const g = o.state.graphs[0];
    captures.push(g.captureMs);
    if (i === 0) console.log(`1,000-layer model: ${g.nodes.length} graph nodes, ${g.edges.length} edges`);
  }
  console.log(`1,000-layer tape capture: median ${median(captures).toFixed(1)} ms (${captures.map((c) => c.toFixed(1)).join(', ')})`);
}

// Command to first report: the whole CLI, wall clock.
{
  const walls = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [path.join(root, 'bin/loss-lens.js'), 'analyze', 'examples/custom-loop-drops-penalty.ts', '--steps', '1', '--json'], { cwd: root, encoding: 'utf8' });
    walls.push(performance.now() - t0);
    if (!r.stdout.includes('"schemaVersion"')) throw new Error(r.stderr);
  }
  console.log(`command to first report (small script, 1 step): median ${median(walls).toFixed(0)} ms (${walls.map((w) => w.toFixed(0)).join(', ')})`);
}
