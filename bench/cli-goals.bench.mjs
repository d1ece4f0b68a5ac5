#!/usr/bin/env node
// The goals, through the CLI (`loss-lens analyze --steps N`, probes and all): for each model
// and configuration, interleaved runs of a short and a long length; each adjacent pair gives
// steps/s = (N_long − N_short) / (T_long − T_short), so start-up (bundling, tfjs and wasm start,
// first-step warm-up, tape capture) cancels out. Median over pairs with a bootstrap 95% interval.
//
//   node bench/cli-goals.bench.mjs [cnn|mobilenet|text|examples ...]
//   (examples: whole-CLI wall time of each examples/ script, 20 steps, paired against the first configuration)
//   BENCH_CONFIGS=default,one,old   (default: adaptive threads; one: LOSS_LENS_WASM_THREADS=1;
//                                    old: one thread and LOSS_LENS_SIMD_KERNELS=0, i.e. before issue 14)
//   BENCH_PAIRS=5   BENCH_PIN=1 (run everything under taskset -c 0)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootstrapMedianCI, loadAverage, median } from './stats.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
spawnSync(process.execPath, [path.join(root, 'esbuild.mjs')], { cwd: root, stdio: 'inherit' });

const LENGTHS = { cnn: [5, 25], mobilenet: [5, 25], text: [20, 220] };
const CONFIGS = {
  default: {},
  one: { LOSS_LENS_WASM_THREADS: '1' },
  old: { LOSS_LENS_WASM_THREADS: '1', LOSS_LENS_SIMD_KERNELS: '0' },
  two: { LOSS_LENS_WASM_THREADS: '2' },
};
const models = process.argv.slice(2).filter((m) => LENGTHS[m]);
const examples = process.argv.includes('examples');
const configs = (process.env.BENCH_CONFIGS ?? 'default,one,old').split(',');
const pairs = Number(process.env.BENCH_PAIRS ?? 5);
const pin = process.env.BENCH_PIN === '1';

const eventsDir = mkdtempSync(path.join(os.tmpdir(), 'loss-lens-goals-'));
process.on('exit', () => rmSync(eventsDir, { recursive: true, force: true }));
/** Median wall time of a run's steps after the first three, from its recorded step events (robust to short load spikes). */
function medianStepMs(eventsFile) {
  const walls = readFileSync(eventsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
    .filter((e) => e.type === 'step').map((e) => e.record.wallMs);
  return median(walls.slice(3));
}

let lastStepMs = Number.NaN;
function wall(model, steps, env) {
  const events = path.join(eventsDir, 'events.ndjson');
  const args = [path.join(root, 'bin/loss-lens.js'), 'analyze', 'bench/scripts/goal-models.ts', '--steps', String(steps), '--timeout', '600', '--json', '--events', events];
  const [cmd, argv] = pin ? ['taskset', ['-c', '0', process.execPath, ...args]] : [process.execPath, args];
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env, BENCH_MODEL: model }, maxBuffer: 64 << 20 });
  const ms = performance.now() - t0;
  const report = JSON.parse(r.stdout);
  if (report.steps !== steps) throw new Error(`${model} ${JSON.stringify(env)}: ${report.steps} steps (${report.status}) ${r.stderr.slice(-400)}`);
  lastStepMs = medianStepMs(events);
  return ms;
}

console.log(`CLI goals: ${pairs} pairs per model and configuration${pin ? ', pinned to one core (taskset -c 0)' : ''}; load average ${loadAverage()}; ${new Date().toISOString()}`);

if (examples) {
  const scripts = ['custom-loop-drops-penalty.ts', 'custom-loop-with-penalty.ts', 'fit-cnn-with-decay.ts'];
  const runs = Number(process.env.BENCH_EXAMPLE_PAIRS ?? 15);
  for (const script of scripts) {
    const walls = Object.fromEntries(configs.map((c) => [c, []]));
    for (let p = 0; p < runs; p++) {
      for (let i = 0; i < configs.length; i++) {
        const c = configs[(i + p) % configs.length];
        const args = [path.join(root, 'bin/loss-lens.js'), 'analyze', `examples/${script}`, '--json'];
        const [cmd, argv] = pin ? ['taskset', ['-c', '0', process.execPath, ...args]] : [process.execPath, args];
        const t0 = performance.now();
        const r = spawnSync(cmd, argv, { cwd: root, encoding: 'utf8', env: { ...process.env, ...CONFIGS[c] } });
        walls[c].push(performance.now() - t0);
        if (!r.stdout.includes('"schemaVersion"')) throw new Error(r.stderr.slice(-400));
      }
    }
    const line = configs.map((c) => `${c} ${median(walls[c]).toFixed(0)} ms`).join(', ');
    const paired = configs.slice(1).map((c) => {
      const ratios = walls[configs[0]].map((w, i) => w / walls[c][i]);
      const [lo, hi] = bootstrapMedianCI(ratios);
      return `${configs[0]}/${c} ×${median(ratios).toFixed(3)} [${lo.toFixed(3)}, ${hi.toFixed(3)}]`;
    });
    console.log(`examples/${script}: ${line} (n=${runs}); ${paired.join('; ')}`);
  }
}

for (const model of models.length || examples ? models : Object.keys(LENGTHS)) {
  const [short, long] = LENGTHS[model];
  const rates = Object.fromEntries(configs.map((c) => [c, []]));
  const stepRates = Object.fromEntries(configs.map((c) => [c, []]));
  for (let p = 0; p < pairs; p++) {
    // Configurations in a rotating order, short and long alternating, so drift hits all alike.
    const order = configs.map((_, i) => configs[(i + p) % configs.length]);
    for (const c of order) {
      const lengths = p % 2 ? [long, short] : [short, long];
      const t = {};
      for (const steps of lengths) {
        t[steps] = wall(model, steps, CONFIGS[c]);
        if (steps === long) stepRates[c].push(1000 / lastStepMs);
      }
      rates[c].push((1000 * (long - short)) / (t[long] - t[short]));
    }
  }
  for (const c of configs) {
    const [lo, hi] = bootstrapMedianCI(rates[c]);
    const [slo, shi] = bootstrapMedianCI(stepRates[c]);
    console.log(
      `${model.padEnd(9)} ${c.padEnd(8)} two lengths: ${median(rates[c]).toFixed(2)} steps/s [${lo.toFixed(2)}, ${hi.toFixed(2)}] (n=${rates[c].length}; ${rates[c].map((r) => r.toFixed(2)).join(' ')}); ` +
        `median step of the long runs: ${median(stepRates[c]).toFixed(2)} steps/s [${slo.toFixed(2)}, ${shi.toFixed(2)}]`,
    );
  }
  for (const c of configs.slice(1)) {
    const ratios = rates[configs[0]].map((r, i) => r / rates[c][i]);
    const [lo, hi] = bootstrapMedianCI(ratios);
    const stepRatios = stepRates[configs[0]].map((r, i) => r / stepRates[c][i]);
    const [slo, shi] = bootstrapMedianCI(stepRatios);
    console.log(`${model.padEnd(9)} ${configs[0]}/${c} paired speed-up: two lengths ×${median(ratios).toFixed(3)} [${lo.toFixed(3)}, ${hi.toFixed(3)}]; median step ×${median(stepRatios).toFixed(3)} [${slo.toFixed(3)}, ${shi.toFixed(3)}]`);
  }
}
console.log(`load average after: ${loadAverage()}`);
