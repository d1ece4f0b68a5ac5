#!/usr/bin/env node
// Engine benchmarks (issue: the engine and its CLI):
// 1. probe overhead: steps/s with no instrumentation vs the full per-step probes, same runner, backend
//    and kernels, interleaved A/B pairs of BENCH_OVERHEAD_STEPS (1,000) steps per side, the median
//    ratio with a bootstrap 95% interval (goal ≤ 1.05, aim ≤ 1.02); next to it the probes' own time
//    inside the step (performance.now() around each probe section, printed by LOSS_LENS_PERF=1);
//    on each of BENCH_BACKENDS (default wasm,tensorflow: Loss Lens's wasm and the real tfjs-node; wasm alone
//    where the tfjs-node setup has not run). With BENCH_BASELINE=<another checkout, built>, the wasm pairs
//    become quadruples: the baseline's runner, plain and probed, in the same rotation (before/after a change);
// 2. tape capture on a 1,000-layer model;
// 3. time from command to first report for a small script (BENCH_BASELINE=<another checkout, built> alternates
//    with it, for before/after);
// 4. the private channel: decoding 64 MiB of garbage without a frame, and 10,000 frames;
// 5. how long a run outlives a SIGKILLed host (the runner's watchdog and reaper).
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import * as os from 'node:os';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeRatio, loadAverage, median as med } from './stats.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Inside the repo (git-ignored) so the bundle resolves esbuild and tfjs from node_modules.
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
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const OVERHEAD_STEPS = Number(process.env.BENCH_OVERHEAD_STEPS ?? 1000);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 15);
const BACKENDS = (process.env.BENCH_BACKENDS ?? 'wasm,tensorflow').split(',');
// The runner inherits these: the workload's length, and its perf line on stderr.
process.env.BENCH_STEPS = String(OVERHEAD_STEPS);
process.env.LOSS_LENS_PERF = '1';

/** A checkout's runScript and runner (the baseline's bundled from its own sources, so each side is all its own). */
async function checkout(dir) {
  const out = path.join(dir, 'bench', 'out');
  mkdirSync(out, { recursive: true });
  const js = path.join(out, 'run-script.cjs');
  // A baseline from before the rename has runScript in run-session.ts.
  const entry = ['run-script.ts', 'run-session.ts'].map((f) => path.join(dir, 'src/engine', f)).find((f) => existsSync(f));
  if (dir !== root) await esbuild.build({ entryPoints: [entry], outfile: js, bundle: true, platform: 'node', format: 'cjs', external: ['esbuild'], logLevel: 'error' });
  const runner = path.join(dir, 'dist', 'runner.js');
  if (!existsSync(runner)) throw new Error(`${runner} is missing: build that checkout first (npm run build)`);
  return { dir, runScript: createRequire(import.meta.url)(js).runScript, runner };
}
const sides = { this: { dir: root, runScript, runner } };
if (process.env.BENCH_BASELINE) sides.baseline = await checkout(path.resolve(process.env.BENCH_BASELINE));

async function stepsPerSecond(script, instrument, backend, side = sides.this) {
  let out = '';
  const outcome = await side.runScript({
    scriptPath: path.join(side.dir, 'bench/scripts', script),
    steps: 1_000_000,
    timeoutSeconds: 900,
    backend,
    instrument,
    runnerPath: side.runner,
    toolVersion: 'bench',
    cwd: side.dir,
    onOutput: (_s, t) => (out += t),
  });
  const m = /BENCH_STEPS_PER_S ([\d.]+)/.exec(out);
  if (!m) throw new Error(`${script} printed no timing (status ${outcome.state.status}): ${out.slice(-500)}`);
  // The backend that really ran: a silent fallback would measure the wrong thing.
  if (outcome.state.backend?.name !== backend) throw new Error(`${script} ran on ${outcome.state.backend?.name}, not ${backend}`);
  const perf = /loss-lens perf (\{.*\})/.exec(out);
  return { stepsPerS: Number(m[1]), perf: perf ? JSON.parse(perf[1]) : null };
}

const spreadOf = (xs) => `${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)}`;
console.log(`probe overhead: ${PAIRS} interleaved pairs of ${OVERHEAD_STEPS} timed steps per side on ${BACKENDS.join(', ')}; load average ${loadAverage()}; ${new Date().toISOString()}`);
for (const backend of BACKENDS) {
  const names = backend === 'wasm' ? Object.keys(sides) : ['this'];
  for (const script of ['mlp.ts', 'cnn.ts']) {
    // runs[side][instrument]: steps/s per pair; probeMs[side]: the probes' own ms per step of its probed runs.
    const runs = Object.fromEntries(names.map((n) => [n, { false: [], true: [] }]));
    const probeMs = Object.fromEntries(names.map((n) => [n, []]));
    const loads = [];
    for (let i = 0; i < PAIRS; i++) {
      // Rotate the order (plain/probed, and this/baseline) so drift on a shared machine hits every side alike.
      const cells = names.flatMap((n) => [[n, false], [n, true]]);
      const order = cells.map((_, k) => cells[(k + i) % cells.length]);
      loads.push(os.loadavg()[0]);
      for (const [n, instrument] of order) {
        const r = await stepsPerSecond(script, instrument, backend, sides[n]);
        runs[n][instrument].push(r.stepsPerS);
        // All steps of the run count here (warm-up and tape capture included), over all its steps.
        if (instrument && r.perf?.steps) probeMs[n].push(r.perf.probeMs / r.perf.steps);
      }
    }
    loads.push(os.loadavg()[0]);
    const load = `load ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`;
    for (const n of names) {
      const { false: plain, true: probed } = runs[n];
      const ratios = plain.map((p, k) => p / probed[k]);
      const stepMs = 1000 / med(plain);
      const own = probeMs[n].length ? `; probes' own time ${med(probeMs[n]).toFixed(3)} ms/step (${((100 * med(probeMs[n])) / stepMs).toFixed(2)}% of the uninstrumented step)` : '';
      console.log(
        `${backend} ${script} ${n === 'this' ? '' : `[baseline ${sides[n].dir}] `}uninstrumented ${med(plain).toFixed(2)} steps/s (${stepMs.toFixed(2)} ms), instrumented ${med(probed).toFixed(2)} steps/s; ` +
          `slowdown ${describeRatio(ratios)}; pairs ${spreadOf(ratios)}${own}; ${load}`,
      );
    }
    if (sides.baseline && names.includes('baseline')) {
      // Before/after, paired by the rotation they shared: the overhead ratio of each, and each side's speed.
      const overhead = (n, k) => runs[n].false[k] / runs[n].true[k];
      const change = runs.this.true.map((_, k) => overhead('this', k) / overhead('baseline', k));
      const probedSpeed = runs.this.true.map((t, k) => t / runs.baseline.true[k]);
      const plainSpeed = runs.this.false.map((t, k) => t / runs.baseline.false[k]);
      const ownTime = probeMs.this.length === probeMs.baseline.length ? probeMs.this.map((t, k) => t / probeMs.baseline[k]) : [];
      console.log(
        `${backend} ${script} this build vs baseline: slowdown ratio (this/baseline) ${describeRatio(change)}, pairs ${spreadOf(change)}; ` +
          `instrumented steps/s this/baseline ${describeRatio(probedSpeed)}; uninstrumented ${describeRatio(plainSpeed)}` +
          (ownTime.length ? `; probes' own time this/baseline ${describeRatio(ownTime)}` : ''),
      );
    }
  }
}
console.log(`load average after: ${loadAverage()}`);

// BENCH_ONLY=overhead stops here.
if (process.env.BENCH_ONLY === 'overhead') process.exit(0);

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

// Command to first report: the whole CLI, wall clock, and the CPU time of the CLI and its children.
const spread = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (f) => s[Math.min(s.length - 1, Math.floor(f * s.length))];
  return `median ${median(xs).toFixed(0)} ms (min ${s[0].toFixed(0)}, q1 ${q(0.25).toFixed(0)}, q3 ${q(0.75).toFixed(0)}, max ${s.at(-1).toFixed(0)}; n=${xs.length})`;
};
{
  const checkouts = [['this build', root], ...(process.env.BENCH_BASELINE ? [['baseline', path.resolve(process.env.BENCH_BASELINE)]] : [])];
  const walls = Object.fromEntries(checkouts.map(([name]) => [name, []]));
  const runs = Number(process.env.BENCH_CLI_RUNS ?? 15);
  for (let i = 0; i < runs; i++) {
    // Alternate the checkouts, so drift on a shared machine hits both alike.
    for (const [name, dir] of i % 2 ? [...checkouts].reverse() : checkouts) {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [path.join(dir, 'bin/loss-lens.js'), 'analyze', 'examples/custom-loop-drops-penalty.ts', '--steps', '1', '--json'], { cwd: dir, encoding: 'utf8' });
      walls[name].push(performance.now() - t0);
      if (!r.stdout.includes('"schemaVersion"')) throw new Error(r.stderr);
    }
  }
  for (const [name, dir] of checkouts) console.log(`command to first report (small script, 1 step), ${name} (${dir}): ${spread(walls[name])}`);
}

// The private channel's decoder: linear in what arrives, whatever it is.
{
  const esm = path.join(tmp, 'telemetry-frame.cjs');
  await esbuild.build({ entryPoints: [path.join(root, 'src/shared/protocol/telemetry-frame.ts')], outfile: esm, bundle: true, platform: 'node', format: 'cjs', logLevel: 'error' });
  const { FrameDecoder, frameHeader } = createRequire(import.meta.url)(esm);
  const token = '0123456789abcdef0123456789abcdef';
  const chunk = new Uint8Array(64 * 1024).fill(0x78);
  const floods = [];
  for (let r = 0; r < 5; r++) {
    const d = new FrameDecoder(token, () => {});
    const t0 = performance.now();
    for (let i = 0; i < 1024; i++) d.push(chunk);
    floods.push(performance.now() - t0);
  }
  const json = JSON.stringify({ type: 'step', record: { step: 1, totalLoss: 1.2345, terms: { 'penalty:dense_Dense1/kernel': 0.01 } } });
  const frames = Buffer.from(Array.from({ length: 10_000 }, () => frameHeader(token, Buffer.byteLength(json)) + json + '\n').join(''));
  const decodes = [];
  for (let r = 0; r < 5; r++) {
    let n = 0;
    const d = new FrameDecoder(token, () => n++);
    const t0 = performance.now();
    for (let i = 0; i < frames.length; i += 65536) d.push(frames.subarray(i, i + 65536));
    decodes.push(performance.now() - t0);
    if (n !== 10_000) throw new Error(`decoded ${n} frames`);
  }
  console.log(`channel decoder: 64 MiB without a frame ${spread(floods)}; 10,000 frames (${(frames.length / 1024 / 1024).toFixed(1)} MiB) ${spread(decodes)}`);
}

// A SIGKILLed host: how long until the runner and the script's helpers are gone.
{
  const { readFileSync, readdirSync, existsSync } = await import('node:fs');
  const { spawn } = await import('node:child_process');
  const alive = (pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat[stat.lastIndexOf(')') + 2] !== 'Z';
    } catch {
      return false;
    }
  };
  const childrenOf = (ppid) =>
    readdirSync('/proc').filter((n) => /^\d+$/.test(n) && existsSync(`/proc/${n}/stat`)).filter((n) => {
      try {
        const st = readFileSync(`/proc/${n}/stat`, 'utf8');
        return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]) === ppid && readFileSync(`/proc/${n}/cmdline`, 'utf8').includes('runner.js');
      } catch {
        return false;
      }
    }).map(Number);
  const gone = [];
  for (let r = 0; r < 7; r++) {
    const cli = spawn(process.execPath, [path.join(root, 'bin/loss-lens.js'), 'analyze', 'test/fixtures/scripts/spawns-helpers.js', '--json', '--steps', '1000', '--', '--spin'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    cli.stderr.on('data', (t) => (err += t));
    while (!/job=\d+/.test(err)) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 500));
    const pids = [...childrenOf(cli.pid), ...[...err.matchAll(/=(\d+)/g)].map((m) => Number(m[1]))];
    cli.kill('SIGKILL');
    const t0 = performance.now();
    while (pids.some(alive)) await new Promise((r) => setTimeout(r, 5));
    gone.push(performance.now() - t0);
  }
  console.log(`SIGKILLed host → runner and its 3 helpers gone: ${spread(gone)}`);
}
