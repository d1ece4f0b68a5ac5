#!/usr/bin/env node
// Effective-decay bench (issue 11): what measuring each penalized weight's effective decay costs on the CNN with
// decay (bench/scripts/cnn.ts: three L2-penalized kernels, 432, 4,608 and 32,768 elements; the last two sampled),
// under SGD and under Adam, on wasm. Two measures:
// 1. the probe's own time: performance.now() around every stretch of effective-decay code (its sample reads, the two
//    shadows, the assignment hook), the probe clock's 'decay' section, per step, against the step time without it;
// 2. interleaved A/B pairs of the same instrumented run with the measurement on and off (measureDecay), steps/s,
//    median ratio with a bootstrap 95% interval.
// Goal: at most 2% of a step.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeRatio, loadAverage, median, percentile } from './stats.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tmp = path.join(root, 'bench', 'out');
mkdirSync(tmp, { recursive: true });
spawnSync(process.execPath, [path.join(root, 'esbuild.mjs')], { cwd: root, stdio: 'inherit' });
const sessionJs = path.join(tmp, 'run-script.cjs');
await esbuild.build({
  entryPoints: [path.join(root, 'src/engine/run-script.ts')],
  outfile: sessionJs,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  external: ['esbuild'],
  logLevel: 'error',
});
const { runScript } = createRequire(import.meta.url)(sessionJs);
const runner = path.join(root, 'dist', 'runner.js');

const STEPS = Number(process.env.BENCH_DECAY_STEPS ?? 300);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 9);
process.env.BENCH_STEPS = String(STEPS);
process.env.LOSS_LENS_PERF = '1';

async function once(optimizer, measureDecay) {
  process.env.BENCH_OPTIMIZER = optimizer;
  let out = '';
  const outcome = await runScript({
    scriptPath: path.join(root, 'bench/scripts/cnn.ts'),
    steps: 1_000_000,
    timeoutSeconds: 900,
    backend: 'wasm',
    measureDecay,
    runnerPath: runner,
    toolVersion: 'bench',
    cwd: root,
    onOutput: (_s, t) => (out += t),
  });
  const m = /BENCH_STEPS_PER_S ([\d.]+)/.exec(out);
  if (!m) throw new Error(`cnn.ts printed no timing (status ${outcome.state.status}): ${out.slice(-500)}`);
  const perf = JSON.parse(/loss-lens perf (\{.*\})/.exec(out)[1]);
  const decayed = Object.keys(outcome.state.series[0]?.decay?.values ?? {}).length;
  const perUpdate = perf.decayMsPerUpdate ?? [];
  return {
    stepsPerS: Number(m[1]),
    decayMsPerStep: perf.probeMsBySection.decay / perf.steps,
    // Steady state: the median update once the first ten (JIT, first-use allocations, cross-checks) are past.
    steadyMs: median(perUpdate.slice(10)),
    warmupMs: perUpdate.slice(0, 10).reduce((a, b) => a + b, 0),
    steps: perf.steps,
    decayed,
  };
}

console.log(`effective decay on the CNN with decay, wasm: ${PAIRS} interleaved pairs of ${STEPS} timed steps per side; ${new Date().toISOString()}; load average ${loadAverage()}`);
for (const optimizer of ['sgd', 'adam']) {
  const ratios = [];
  const off = [];
  const on = [];
  const own = [];
  const steady = [];
  const warmup = [];
  let decayed = 0;
  for (let i = 0; i < PAIRS; i++) {
    const order = i % 2 === 0 ? [false, true] : [true, false];
    const r = {};
    for (const m of order) r[m] = await once(optimizer, m);
    off.push(r.false.stepsPerS);
    on.push(r.true.stepsPerS);
    ratios.push(r.false.stepsPerS / r.true.stepsPerS);
    own.push(r.true.decayMsPerStep);
    steady.push(r.true.steadyMs);
    warmup.push(r.true.warmupMs);
    decayed = r.true.decayed;
  }
  const stepMs = 1000 / median(off);
  const ownPct = own.map((ms) => (100 * ms) / stepMs);
  console.log(
    `${optimizer}: ${decayed} weights measured; step ${stepMs.toFixed(2)} ms without the measurement (${median(off).toFixed(2)} steps/s, ` +
      `range ${Math.min(...off).toFixed(2)}–${Math.max(...off).toFixed(2)}); probe's own time ${median(own).toFixed(3)} ms/step = ` +
      `${median(ownPct).toFixed(2)}% of a step (range ${Math.min(...ownPct).toFixed(2)}–${Math.max(...ownPct).toFixed(2)}%, p90 ${percentile(ownPct, 0.9).toFixed(2)}%), ` +
      `of which the first 10 updates ${median(warmup).toFixed(1)} ms in all; steady state ${median(steady).toFixed(3)} ms/update = ` +
      `${((100 * median(steady)) / stepMs).toFixed(2)}% (range ${((100 * Math.min(...steady)) / stepMs).toFixed(2)}–${((100 * Math.max(...steady)) / stepMs).toFixed(2)}%); ` +
      `A/B slowdown ${describeRatio(ratios)}, pairs ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}`,
  );
}
console.log(`load average after: ${loadAverage()}`);
