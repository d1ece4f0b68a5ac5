#!/usr/bin/env node
// The goals, through the CLI (`loss-lens analyze --steps N`, probes and all): for each model
// and configuration, interleaved runs of a short and a long length; each adjacent pair gives
// steps/s = (N_long − N_short) / (T_long − T_short), so start-up (bundling, tfjs and wasm start,
// first-step warm-up, tape capture) cancels out. Median over pairs with a bootstrap 95% interval.
//
//   node bench/cli-goals.bench.mjs [cnn|mobilenet|text|examples ...]
//   (examples: whole-CLI wall time of each examples/ script, 20 steps, paired against the first configuration)
//   BENCH_CONFIGS=default,one,old   (default: adaptive threads; one: LOSS_LENS_WASM_THREADS=1;
//                                    old: one thread and LOSS_LENS_SIMD_KERNELS=0, i.e. before issue 14;
//                                    all on --backend wasm, since `auto` picks tfjs-node wherever it is installed)
//   BENCH_CONFIGS=tensorflow,wasm,cpu (the backend dimension, issue 19: tfjs-node, our wasm, stock tfjs cpu)
//   BENCH_PAIRS=5   BENCH_PIN=1 (run everything under taskset -c 0)
//   BENCH_FEW_PAIRS=1 (cpu: a CNN step takes ~2 minutes there, so it runs FEW_STEPS steps, in that many pairs only)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootstrapMedianCI, loadAverage, median } from './stats.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
spawnSync(process.execPath, [path.join(root, 'esbuild.mjs')], { cwd: root, stdio: 'inherit' });

const LENGTHS = { cnn: [5, 25], mobilenet: [5, 25], text: [20, 220] };
/**
 * cpu runs this many steps and is timed by its steps after the first (no two lengths: they would take an hour).
 * Not the text model: its first step on cpu did not end within 15 minutes (2026-12-07), so it is not run there.
 */
const FEW_STEPS = { cnn: 2, mobilenet: 2 };
// Each configuration: the backend (--backend), the environment, and whether it is too slow for two lengths.
const CONFIGS = {
  default: { backend: 'wasm', env: {} },
  one: { backend: 'wasm', env: { LOSS_LENS_WASM_THREADS: '1' } },
  old: { backend: 'wasm', env: { LOSS_LENS_WASM_THREADS: '1', LOSS_LENS_SIMD_KERNELS: '0' } },
  two: { backend: 'wasm', env: { LOSS_LENS_WASM_THREADS: '2' } },
  tensorflow: { backend: 'tensorflow', env: {} },
  wasm: { backend: 'wasm', env: {} },
  cpu: { backend: 'cpu', env: {}, few: true },
};
const models = process.argv.slice(2).filter((m) => LENGTHS[m]);
const examples = process.argv.includes('examples');
const configs = (process.env.BENCH_CONFIGS ?? 'default,one,old').split(',');
const pairs = Number(process.env.BENCH_PAIRS ?? 5);
const pin = process.env.BENCH_PIN === '1';
const fewPairs = Number(process.env.BENCH_FEW_PAIRS ?? 1);
for (const c of configs) if (!CONFIGS[c]) throw new Error(`unknown configuration ${c}; known: ${Object.keys(CONFIGS).join(', ')}`);

const eventsDir = mkdtempSync(path.join(os.tmpdir(), 'loss-lens-goals-'));
process.on('exit', () => rmSync(eventsDir, { recursive: true, force: true }));
/** Median wall time of a run's steps after the first three, from its recorded step events (robust to short load spikes). */
function medianStepMs(eventsFile, skip = 3) {
  const walls = readFileSync(eventsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
    .filter((e) => e.type === 'step').map((e) => e.record.wallMs);
  return median(walls.slice(skip));
}

let lastStepMs = Number.NaN;
function wall(model, steps, config) {
  const { backend, env, few } = CONFIGS[config];
  const events = path.join(eventsDir, 'events.ndjson');
  const args = [path.join(root, 'bin/loss-lens.js'), 'analyze', 'bench/scripts/goal-models.ts', '--backend', backend, '--steps', String(steps), '--timeout', few ? '3600' : '600', '--json', '--events', events];
  const [cmd, argv] = pin ? ['taskset', ['-c', '0', process.execPath, ...args]] : [process.execPath, args];
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env, BENCH_MODEL: model }, maxBuffer: 64 << 20 });
  const ms = performance.now() - t0;
  const report = JSON.parse(r.stdout);
  if (report.steps !== steps) throw new Error(`${model} ${config}: ${report.steps} steps (${report.status}) ${r.stderr.slice(-400)}`);
  // The backend that really ran: a config that silently fell back would measure the wrong thing.
  if (report.backend?.name !== backend) throw new Error(`${model} ${config}: ran on ${report.backend?.name}, not ${backend}`);
  lastStepMs = medianStepMs(events, few ? 1 : 3);
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
        const args = [path.join(root, 'bin/loss-lens.js'), 'analyze', `examples/${script}`, '--backend', CONFIGS[c].backend, '--json'];
        const [cmd, argv] = pin ? ['taskset', ['-c', '0', process.execPath, ...args]] : [process.execPath, args];
        const t0 = performance.now();
        const r = spawnSync(cmd, argv, { cwd: root, encoding: 'utf8', env: { ...process.env, ...CONFIGS[c].env } });
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

const ci = (xs, digits = 2) => {
  const [lo, hi] = bootstrapMedianCI(xs);
  return `${median(xs).toFixed(digits)} [${lo.toFixed(digits)}, ${hi.toFixed(digits)}]`;
};
for (const model of models.length || examples ? models : Object.keys(LENGTHS)) {
  const [short, long] = LENGTHS[model];
  const rates = Object.fromEntries(configs.map((c) => [c, []]));
  const stepRates = Object.fromEntries(configs.map((c) => [c, []]));
  const loads = [];
  for (let p = 0; p < pairs; p++) {
    // Configurations in a rotating order, short and long alternating, so drift hits all alike.
    const order = configs.map((_, i) => configs[(i + p) % configs.length]);
    loads.push(os.loadavg()[0]);
    for (const c of order) {
      if (CONFIGS[c].few) {
        // Too slow for two lengths: one short run, timed by its steps after the first, in the first pairs only.
        if (p >= fewPairs || !FEW_STEPS[model]) continue;
        wall(model, FEW_STEPS[model], c);
        stepRates[c].push(1000 / lastStepMs);
        continue;
      }
      const lengths = p % 2 ? [long, short] : [short, long];
      const t = {};
      for (const steps of lengths) {
        t[steps] = wall(model, steps, c);
        if (steps === long) stepRates[c].push(1000 / lastStepMs);
      }
      rates[c].push((1000 * (long - short)) / (t[long] - t[short]));
    }
  }
  loads.push(os.loadavg()[0]);
  const loadRange = `load ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`;
  for (const c of configs) {
    if (CONFIGS[c].few && !FEW_STEPS[model]) {
      console.log(`${model.padEnd(9)} ${c.padEnd(10)} not run: one step takes longer than 15 minutes`);
      continue;
    }
    if (CONFIGS[c].few) {
      console.log(
        `${model.padEnd(9)} ${c.padEnd(10)} ${FEW_STEPS[model]} steps per run, steps after the first: ${median(stepRates[c]).toFixed(4)} steps/s ` +
          `(n=${stepRates[c].length}; ${stepRates[c].map((r) => r.toFixed(4)).join(' ')}); ${loadRange}`,
      );
      continue;
    }
    console.log(
      `${model.padEnd(9)} ${c.padEnd(10)} two lengths: ${ci(rates[c])} steps/s (n=${rates[c].length}; ${rates[c].map((r) => r.toFixed(2)).join(' ')}); ` +
        `median step of the long runs: ${ci(stepRates[c])} steps/s; ${loadRange}`,
    );
  }
  // Paired against the first configuration (pair i of one with pair i of the other: same stretch of machine time).
  const [first] = configs;
  for (const c of configs.slice(1)) {
    const stepRatios = stepRates[c].map((r, i) => stepRates[first][i] / r);
    if (stepRatios.length === 0) continue;
    if (CONFIGS[c].few || CONFIGS[first].few) {
      console.log(`${model.padEnd(9)} ${first}/${c} paired speed-up, median step: ×${median(stepRatios).toFixed(1)} (n=${stepRatios.length}; ${stepRatios.map((r) => r.toFixed(1)).join(' ')})`);
      continue;
    }
    const ratios = rates[first].map((r, i) => r / rates[c][i]);
    console.log(`${model.padEnd(9)} ${first}/${c} paired speed-up: two lengths ×${ci(ratios, 3)}; median step ×${ci(stepRatios, 3)}`);
  }
}
console.log(`load average after: ${loadAverage()}`);
