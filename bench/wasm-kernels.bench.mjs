#!/usr/bin/env node
// Training steps per second on cpu, on wasm before Loss Lens's kernels (cpu bridge only), and on
// wasm with them (one thread, the default, and the opt-in threaded build), for three models. Each
// configuration runs in its own process. Numbers we keep go to bench/RESULTS.md.
//
//   node bench/wasm-kernels.bench.mjs            all models, all configurations
//   node bench/wasm-kernels.bench.mjs cnn text   some models
//   BENCH_QUICK=1 ...                            skip the slow cpu and bridge runs
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const req = createRequire(path.join(ROOT, 'package.json'));

/** Model builders; `batch` makes synthetic data (fixed seeds). */
const MODELS = {
  cnn: {
    title: 'CIFAR-10-like CNN (32×32×3, conv 5×5×32, pool, conv 5×5×64, pool, dense 384/192/10), batch 64',
    build(tf) {
      const L = tf.layers;
      return tf.sequential({
        layers: [
          L.conv2d({ inputShape: [32, 32, 3], filters: 32, kernelSize: 5, padding: 'same', activation: 'relu' }),
          L.maxPooling2d({ poolSize: 2 }),
          L.conv2d({ filters: 64, kernelSize: 5, padding: 'same', activation: 'relu' }),
          L.maxPooling2d({ poolSize: 2 }),
          L.flatten(),
          L.dense({ units: 384, activation: 'relu' }),
          L.dense({ units: 192, activation: 'relu' }),
          L.dense({ units: 10, activation: 'softmax' }),
        ],
      });
    },
    batch: (tf) => [tf.randomUniform([64, 32, 32, 3], 0, 1, 'float32', 1), oneHot(tf, 64, 10)],
  },
  mobilenet: {
    title: 'MobileNet-style (32×32×3, conv s2 + 5 depthwise-separable blocks with BN + relu6, GAP, dense 10), batch 64',
    build(tf) {
      const L = tf.layers;
      const layers = [
        L.conv2d({ inputShape: [32, 32, 3], filters: 32, kernelSize: 3, strides: 2, padding: 'same', useBias: false }),
        L.batchNormalization(),
        L.reLU({ maxValue: 6 }),
      ];
      for (const [filters, strides] of [[64, 1], [128, 2], [128, 1], [256, 2], [256, 1]]) {
        layers.push(L.depthwiseConv2d({ kernelSize: 3, strides, padding: 'same', useBias: false }), L.batchNormalization(), L.reLU({ maxValue: 6 }));
        layers.push(L.conv2d({ filters, kernelSize: 1, useBias: false }), L.batchNormalization(), L.reLU({ maxValue: 6 }));
      }
      layers.push(L.globalAveragePooling2d({}), L.dense({ units: 10, activation: 'softmax' }));
      return tf.sequential({ layers });
    },
    batch: (tf) => [tf.randomUniform([64, 32, 32, 3], 0, 1, 'float32', 1), oneHot(tf, 64, 10)],
  },
  text: {
    title: 'Embedding text model (vocab 20000 × 64, 100 tokens, GAP, dense 64, dense 2), batch 64',
    build(tf) {
      const L = tf.layers;
      return tf.sequential({
        layers: [
          L.embedding({ inputShape: [100], inputDim: 20000, outputDim: 64 }),
          L.globalAveragePooling1d(),
          L.dense({ units: 64, activation: 'relu' }),
          L.dense({ units: 2, activation: 'softmax' }),
        ],
      });
    },
    batch: (tf) => [tf.randomUniform([64, 100], 0, 20000, 'int32', 1), oneHot(tf, 64, 2)],
  },
};

/** Each configuration: how tfjs is set up, and how many steps (slow ones run a single step). */
const CONFIGS = {
  stock: { label: 'stock wasm', warmup: 0, steps: { cnn: 1, mobilenet: 1, text: 1 } },
  // One step each; the text model's gradient on cpu (UnsortedSegmentSum masks the whole batch once
  // per vocabulary row) takes minutes and gigabytes, so that run is cut off.
  cpu: { label: 'cpu', warmup: 0, steps: { cnn: 1, mobilenet: 1, text: 1 }, slow: true, limitSeconds: { cnn: 300, mobilenet: 300, text: 60 } },
  bridge: {
    label: 'wasm, cpu bridge only (before)',
    warmup: 0,
    steps: { cnn: 1, mobilenet: 1, text: 1 },
    slow: true,
    limitSeconds: { cnn: 300, mobilenet: 300, text: 60 },
  },
  ours1: { label: 'wasm + Loss Lens kernels, 1 thread (LOSS_LENS_WASM_THREADS=1)', warmup: 2, steps: { cnn: 10, mobilenet: 10, text: 20 } },
  adaptive: { label: 'wasm + Loss Lens kernels, adaptive threads (default)', warmup: 8, steps: { cnn: 10, mobilenet: 10, text: 20 } },
  ours: { label: `wasm + Loss Lens kernels, ${threadedCount()} threads for every op`, warmup: 2, steps: { cnn: 10, mobilenet: 10, text: 20 } },
};

/** Threads for the opt-in configuration (LOSS_LENS_WASM_THREADS): the cores, 2 to 4. */
function threadedCount() {
  return Math.max(2, Math.min(os.availableParallelism(), 4));
}

function oneHot(tf, rows, classes) {
  return tf.oneHot(tf.randomUniform([rows], 0, classes, 'int32', 2), classes).toFloat();
}

/** Bundles Loss Lens's backend setup (it takes tfjs as an argument) for the child processes. */
async function bundleBackendSetup() {
  const esbuild = await import(req.resolve('esbuild'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loss-lens-bench-'));
  const entry = path.join(dir, 'entry.ts');
  writeFileSync(
    entry,
    `export { preferThreadedWasm } from ${JSON.stringify(path.join(ROOT, 'packages/tfjs-backend-wasm-training/src/threaded-wasm-backend'))};\n` +
      `export { installWasmTrainingKernels } from ${JSON.stringify(path.join(ROOT, 'packages/tfjs-backend-wasm-training/src/wasm-training-kernels'))};\n` +
      `export { installAdaptiveThreads } from ${JSON.stringify(path.join(ROOT, 'packages/tfjs-backend-wasm-training/src/wasm-threads/adaptive-threads'))};\n` +
      `export { installCpuFallbackKernels } from ${JSON.stringify(path.join(ROOT, 'packages/tfjs-backend-wasm-training/src/cpu-fallback-kernels'))};\n` +
      `export { cpuBackend } from ${JSON.stringify(path.join(ROOT, 'packages/tfjs-backend-wasm-training/src/tfjs-private'))};\n`,
  );
  const outfile = path.join(dir, 'backend-setup.cjs');
  await esbuild.build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'cjs', logLevel: 'warning' });
  // Our SIMD kernels are looked up next to the bundle, as in dist/.
  for (const f of ['wasm-training-simd.wasm', 'wasm-training-simd-shared.wasm']) copyFileSync(path.join(ROOT, 'packages/tfjs-backend-wasm-training/src/simd', f), path.join(dir, f));
  return outfile;
}

/** Self time per kernel on the active backend: a kernel's time minus the kernels it ran through the engine. */
function profileKernels(tf, backendName) {
  const stats = new Map();
  const stack = [];
  for (const k of tf.getKernelsForBackend(backendName)) {
    const inner = k.kernelFunc;
    k.kernelFunc = (args) => {
      const t0 = performance.now();
      stack.push(0);
      try {
        return inner(args);
      } finally {
        const dt = performance.now() - t0;
        const nested = stack.pop();
        if (stack.length) stack[stack.length - 1] += dt;
        const s = stats.get(k.kernelName) ?? { ms: 0, calls: 0 };
        s.ms += dt - nested;
        s.calls++;
        stats.set(k.kernelName, s);
      }
    };
  }
  return stats;
}

async function child(configName, modelName, setupPath) {
  const config = CONFIGS[configName];
  const model = MODELS[modelName];
  const tf = req('@tensorflow/tfjs');
  const setup = req(setupPath);
  const fellBack = [];
  let backendName = 'cpu';
  if (configName !== 'cpu') {
    req('@tensorflow/tfjs-backend-wasm');
    if (configName === 'ours') setup.preferThreadedWasm(tf, req, threadedCount());
    if (configName === 'adaptive') setup.preferThreadedWasm(tf, req, Math.min(os.availableParallelism(), 4), () => {}, true);
    await tf.setBackend('wasm');
    backendName = 'wasm';
    if (configName === 'bridge') setup.installCpuFallbackKernels(tf, 'wasm', (k) => fellBack.push(k));
    else if (configName !== 'stock') setup.installWasmTrainingKernels(tf, (k) => fellBack.push(k));
    if (configName === 'adaptive') setup.installAdaptiveThreads(tf);
  } else {
    await tf.setBackend('cpu');
  }
  setup.cpuBackend(tf);
  const threads = backendName === 'wasm' ? tf.backend().wasm.tfjs.getThreadsCount() : 1;
  const m = model.build(tf);
  m.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const [xs, ys] = model.batch(tf);
  for (let i = 0; i < config.warmup; i++) await m.trainOnBatch(xs, ys);
  const stats = profileKernels(tf, backendName);
  const times = [];
  const n = config.steps[modelName];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await m.trainOnBatch(xs, ys);
    times.push(performance.now() - t0);
  }
  const kernels = [...stats.entries()]
    .map(([name, s]) => ({ name, msPerStep: s.ms / n, callsPerStep: s.calls / n }))
    .sort((a, b) => b.msPerStep - a.msPerStep);
  process.stdout.write(JSON.stringify({ threads, times, kernels, fellBack }) + '\n');
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main() {
  const wanted = process.argv.slice(2).filter((a) => MODELS[a]);
  const models = wanted.length ? wanted : Object.keys(MODELS);
  const quick = process.env.BENCH_QUICK === '1';
  const setupPath = await bundleBackendSetup();
  console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown cpu'}, ${os.availableParallelism()} cores, Node ${process.version}, ${new Date().toISOString()}`);
  const rows = [];
  for (const modelName of models) {
    console.log(`\n## ${MODELS[modelName].title}`);
    for (const [configName, config] of Object.entries(CONFIGS)) {
      if (quick && config.slow) continue;
      const limit = config.limitSeconds?.[modelName];
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', configName, modelName, setupPath], {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
        ...(limit ? { timeout: limit * 1000, killSignal: 'SIGKILL' } : {}),
      });
      if (limit && r.signal === 'SIGKILL') {
        console.log(`  ${config.label.padEnd(48)} < ${(1 / limit).toFixed(3)} steps/s  (stopped: no step within ${limit} s)`);
        rows.push({ model: modelName, config: config.label, cutOff: limit });
        continue;
      }
      const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
      if (r.status !== 0 || !line) {
        const why = (r.stderr.match(/Error: [^\n]*/) ?? [r.stderr.trim().split('\n')[0] ?? `exit ${r.status}`])[0];
        console.log(`  ${config.label.padEnd(48)} failed: ${why}`);
        rows.push({ model: modelName, config: config.label, failed: why });
        continue;
      }
      const result = JSON.parse(line);
      const ms = median(result.times);
      rows.push({ model: modelName, config: config.label, ms, steps: result.times.length, threads: result.threads });
      console.log(
        `  ${config.label.padEnd(48)} ${(1000 / ms).toFixed(ms > 1000 ? 3 : 2).padStart(7)} steps/s  (median ${ms.toFixed(0)} ms over ${result.times.length} steps` +
          `${result.fellBack.length ? `; on cpu: ${result.fellBack.join(', ')}` : ''})`,
      );
      if (configName === 'ours' || configName === 'ours1' || configName === 'adaptive') {
        const total = result.kernels.reduce((a, k) => a + k.msPerStep, 0);
        const top = result.kernels.slice(0, 8).map((k) => `${k.name} ${k.msPerStep.toFixed(1)} ms (${((100 * k.msPerStep) / total).toFixed(0)}%)`);
        console.log(`      kernels per step (${total.toFixed(0)} ms in kernels): ${top.join(', ')}`);
      }
    }
  }
  console.log('\n| model | configuration | steps/s | ms/step (median) | steps timed |\n| --- | --- | ---: | ---: | ---: |');
  for (const r of rows) {
    if (r.failed) console.log(`| ${r.model} | ${r.config} | fails | | ${r.failed} |`);
    else if (r.cutOff) console.log(`| ${r.model} | ${r.config} | < ${(1 / r.cutOff).toFixed(3)} | > ${r.cutOff * 1000} | 0 (stopped) |`);
    else console.log(`| ${r.model} | ${r.config} | ${(1000 / r.ms).toFixed(r.ms > 1000 ? 3 : 2)} | ${r.ms.toFixed(0)} | ${r.steps} |`);
  }
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4], process.argv[5]);
} else {
  await main();
}
