#!/usr/bin/env node
// The threads decision, measured: the same training steps (trainOnBatch, Adam, batch 64; median of
// the timed steps after warm-up, each configuration in its own process, runs interleaved) on
//   plain  the single-threaded SIMD build (LOSS_LENS_WASM_THREADS=1)
//   t1     the threaded build with a pool of one (what adaptive mode starts on)
//   ad     adaptive threads (the default on two or more cores)
//   t2     the threaded build with 2 threads for every operator (LOSS_LENS_WASM_THREADS=2)
//   tk     2 threads for conv/matmul kernels only, by a fixed list (an alternative we measured)
//
//   node bench/threads.bench.mjs [models] [configs] [runs]     e.g. cnn,text plain,ad 5
//   PIN=1 ...   every child under taskset -c 0
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const req = createRequire(path.join(ROOT, 'package.json'));
const MODELS = {
  cnn: { build(tf){const L=tf.layers;return tf.sequential({layers:[L.conv2d({inputShape:[32,32,3],filters:32,kernelSize:5,padding:'same',activation:'relu'}),L.maxPooling2d({poolSize:2}),L.conv2d({filters:64,kernelSize:5,padding:'same',activation:'relu'}),L.maxPooling2d({poolSize:2}),L.flatten(),L.dense({units:384,activation:'relu'}),L.dense({units:192,activation:'relu'}),L.dense({units:10,activation:'softmax'})]});}, batch:(tf)=>[tf.randomUniform([64,32,32,3],0,1,'float32',1),oneHot(tf,64,10)], steps: 10},
  mobilenet: { build(tf){const L=tf.layers;const layers=[L.conv2d({inputShape:[32,32,3],filters:32,kernelSize:3,strides:2,padding:'same',useBias:false}),L.batchNormalization(),L.reLU({maxValue:6})];for(const [f,s] of [[64,1],[128,2],[128,1],[256,2],[256,1]]){layers.push(L.depthwiseConv2d({kernelSize:3,strides:s,padding:'same',useBias:false}),L.batchNormalization(),L.reLU({maxValue:6}));layers.push(L.conv2d({filters:f,kernelSize:1,useBias:false}),L.batchNormalization(),L.reLU({maxValue:6}));}layers.push(L.globalAveragePooling2d({}),L.dense({units:10,activation:'softmax'}));return tf.sequential({layers});}, batch:(tf)=>[tf.randomUniform([64,32,32,3],0,1,'float32',1),oneHot(tf,64,10)], steps: 10},
  text: { build(tf){const L=tf.layers;return tf.sequential({layers:[L.embedding({inputShape:[100],inputDim:20000,outputDim:64}),L.globalAveragePooling1d(),L.dense({units:64,activation:'relu'}),L.dense({units:2,activation:'softmax'})]});}, batch:(tf)=>[tf.randomUniform([64,100],0,20000,'int32',1),oneHot(tf,64,2)], steps: 40},
  mlp: { build(tf){const L=tf.layers;return tf.sequential({layers:[L.dense({inputShape:[784],units:256,activation:'relu'}),L.dense({units:256,activation:'relu'}),L.dense({units:10,activation:'softmax'})]});}, batch:(tf)=>[tf.randomNormal([64,784],0,1,'float32',1),oneHot(tf,64,10)], steps: 60},
};
function oneHot(tf, rows, classes) { return tf.oneHot(tf.randomUniform([rows], 0, classes, 'int32', 2), classes).toFloat(); }
async function bundle() {
  const esbuild = await import(req.resolve('esbuild'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'll-exp-'));
  const entry = path.join(dir, 'entry.ts');
  writeFileSync(entry, `export { installAdaptiveThreads, adaptiveThreadsStats, adaptiveThreadsDetail } from ${JSON.stringify(path.join(ROOT, 'packages/tfjs-backend-wasm-training/src/wasm-threads/adaptive-threads'))};\nexport { preferThreadedWasm } from ${JSON.stringify(path.join(ROOT, 'packages/tfjs-backend-wasm-training/src/threaded-wasm-backend'))};\nexport { installWasmTrainingKernels } from ${JSON.stringify(path.join(ROOT, 'packages/tfjs-backend-wasm-training/src/wasm-training-kernels'))};\nexport { cpuBackend } from ${JSON.stringify(path.join(ROOT, 'packages/tfjs-backend-wasm-training/src/tfjs-private'))};\n`);
  const outfile = path.join(dir, 'setup.cjs');
  await esbuild.build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'cjs', logLevel: 'warning' });
  for (const f of ['wasm-training-simd.wasm', 'wasm-training-simd-shared.wasm']) (await import('node:fs')).copyFileSync(path.join(ROOT, 'packages/tfjs-backend-wasm-training/src/simd', f), path.join(dir, f));
  return outfile;
}
async function child(config, modelName, setupPath) {
  const tf = req('@tensorflow/tfjs'); const setup = req(setupPath);
  req('@tensorflow/tfjs-backend-wasm');
  // config: plain | t1 (threaded build, pool 1) | t2 (threaded, pool 2)
  if (config === 'ad') setup.preferThreadedWasm(tf, req, 2, (r) => { throw new Error(r); }, true);
  else if (config !== 'plain') setup.preferThreadedWasm(tf, req, 2, (r) => { throw new Error(r); });
  await tf.setBackend('wasm');
  if (config === 't1') tf.backend().wasm.tfjs.initWithThreadsCount(1);
  setup.installWasmTrainingKernels(tf, () => {}); setup.cpuBackend(tf);
  if (config === 'ad' && !setup.installAdaptiveThreads(tf)) throw new Error('no adaptive');
  if (config === 'tk') {
    // The pool pointer of tfjs-backend-wasm 4.22's threaded build (packages/tfjs-backend-wasm-training/src/wasm-threads finds it in general).
    const m = tf.backend().wasm; const ADDR = 23564 >> 2;
    const p2 = m.HEAPU32[ADDR]; m.tfjs.initWithThreadsCount(1); const p1 = m.HEAPU32[ADDR];
    if (m.tfjs.getThreadsCount() !== 1) throw new Error('p1');
    m.HEAPU32[ADDR] = p2; if (m.tfjs.getThreadsCount() !== 2) throw new Error('p2'); m.HEAPU32[ADDR] = p1;
    const BIG = new Set((process.env.BIG ?? 'Conv2D,FusedConv2D,Conv2DBackpropInput,Conv2DBackpropFilter,BatchMatMul,_FusedMatMul,DepthwiseConv2dNative,FusedDepthwiseConv2D,DepthwiseConv2dNativeBackpropInput').split(','));
    const minOut = Number(process.env.MIN_OUT ?? 0);
    for (const k of tf.getKernelsForBackend('wasm')) {
      if (!BIG.has(k.kernelName)) continue;
      const inner = k.kernelFunc;
      k.kernelFunc = (args) => { m.HEAPU32[ADDR] = p2; try { return inner(args); } finally { m.HEAPU32[ADDR] = p1; } };
    }
  }
  const threads = tf.backend().wasm.tfjs.getThreadsCount();
  const model = MODELS[modelName]; const m = model.build(tf);
  m.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const [xs, ys] = model.batch(tf);
  for (let i = 0; i < 3; i++) await m.trainOnBatch(xs, ys);
  const times = [];
  for (let i = 0; i < model.steps; i++) { const t0 = performance.now(); await m.trainOnBatch(xs, ys); times.push(performance.now() - t0); }
  if (process.env.DETAIL) for (const d of setup.adaptiveThreadsDetail(tf)) process.stderr.write(`${d.decided} one ${d.one.toFixed(2)} many ${d.many.toFixed(2)} ${d.key}\n`);
  process.stdout.write(JSON.stringify({ threads, times, stats: setup.adaptiveThreadsStats(tf) }) + '\n');
}
import { bootstrapMedianCI, median } from './stats.mjs';
if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4], process.argv[5]);
else {
  const setup = await bundle();
  const models = (process.argv[2] ?? 'cnn,mobilenet,text,mlp').split(','); const configs = (process.argv[3] ?? 'plain,t1,ad,t2').split(','); const reps = Number(process.argv[4] ?? 5);
  const prefix = process.env.PIN ? ['taskset', '-c', '0'] : [];
  console.log('load', os.loadavg().map((x) => x.toFixed(2)).join(' '));
  for (const model of models) {
    const res = Object.fromEntries(configs.map((c) => [c, []]));
    for (let r = 0; r < reps; r++) {
      const order = r % 2 ? [...configs].reverse() : configs;
      for (const c of order) {
        const cmd = [...prefix, process.execPath, fileURLToPath(import.meta.url), '--child', c, model, setup];
        const p = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
        if (process.env.DETAIL) process.stderr.write(p.stderr);
        const line = p.stdout.trim().split('\n').pop();
        if (p.status !== 0) { console.log(c, 'failed', p.stderr.slice(-800)); continue; }
        const j = JSON.parse(line); res[c].push(median(j.times)); if (j.stats && r === 0) console.log(model, c, JSON.stringify(j.stats));
      }
    }
    for (const c of configs) console.log(model, c, 'median ms/step', median(res[c]).toFixed(1), 'runs', res[c].map((x) => x.toFixed(1)).join(' '));
    for (const c of configs.slice(1)) {
      const ratios = res[c].map((x, i) => x / res[configs[0]][i]);
      const [lo, hi] = bootstrapMedianCI(ratios);
      console.log(model, `${c}/${configs[0]} time ratio ×${median(ratios).toFixed(3)} [${lo.toFixed(3)}, ${hi.toFixed(3)}] (${ratios.map((r) => r.toFixed(3)).join(' ')})`);
    }
  }
  console.log('load', os.loadavg().map((x) => x.toFixed(2)).join(' '));
}
