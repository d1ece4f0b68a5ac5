#!/usr/bin/env node
// Loss Lens's wasm-SIMD kernels against what ran before them (LOSS_LENS_SIMD_KERNELS=0: the XNNPACK
// form of Conv2DBackpropFilter, our JS loops, stock wasm's compare/select/batch-norm kernels), one
// kernel at a time on the shapes of the CIFAR-10-like CNN and the MobileNet-style model, one thread.
// Interleaved A/B, BENCH_REPS (15) runs per side after 2 warm-ups; min and median per side, and the
// median of the paired ratios.
import { mkdtempSync, copyFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAverage, median } from './stats.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const req = createRequire(path.join(root, 'package.json'));
const esbuild = await import(req.resolve('esbuild'));
const dir = mkdtempSync(path.join(os.tmpdir(), 'loss-lens-bench-'));
writeFileSync(path.join(dir, 'entry.ts'), `export { installWasmTrainingKernels } from ${JSON.stringify(path.join(root, 'packages/tfjs-backend-wasm-training/src/wasm-training-kernels'))};\n`);
await esbuild.build({ entryPoints: [path.join(dir, 'entry.ts')], outfile: path.join(dir, 'setup.cjs'), bundle: true, platform: 'node', format: 'cjs', logLevel: 'warning' });
for (const f of ['wasm-training-simd.wasm', 'wasm-training-simd-shared.wasm']) copyFileSync(path.join(root, 'packages/tfjs-backend-wasm-training/src/simd', f), path.join(dir, f));
const setup = req(path.join(dir, 'setup.cjs'));
const tf = req('@tensorflow/tfjs');
req('@tensorflow/tfjs-backend-wasm');
await tf.setBackend('wasm');
setup.installWasmTrainingKernels(tf, () => {});
const REPS = Number(process.env.BENCH_REPS ?? 15);

const t = (shape, seed, lo = -1, hi = 1) => tf.randomUniform(shape, lo, hi, 'float32', seed);
const convDw = (xs, fs, s, dy) => [() => ({ x: t(xs, 1), dy: t(dy, 2) }), 'Conv2DBackpropFilter', { strides: [s, s], pad: 'same', dataFormat: 'NHWC', filterShape: fs, dilations: [1, 1] }];
const dwDw = (xs, k, s, dy) => [() => ({ x: t(xs, 1), dy: t(dy, 2) }), 'DepthwiseConv2dNativeBackpropFilter', { strides: [s, s], pad: 'same', dataFormat: 'NHWC', filterShape: [k, k, xs[3], 1], dilations: [1, 1] }];
const CASES = [
  ['CNN conv1 dW 64×32×32×3, 5×5→32', ...convDw([64, 32, 32, 3], [5, 5, 3, 32], 1, [64, 32, 32, 32])],
  ['CNN conv2 dW 64×16×16×32, 5×5→64', ...convDw([64, 16, 16, 32], [5, 5, 32, 64], 1, [64, 16, 16, 64])],
  ['MobileNet conv0 dW 3×3 s2 3→32', ...convDw([64, 32, 32, 3], [3, 3, 3, 32], 2, [64, 16, 16, 32])],
  ['MobileNet pointwise dW 16×16 32→64', ...convDw([64, 16, 16, 32], [1, 1, 32, 64], 1, [64, 16, 16, 64])],
  ['MobileNet pointwise dW 4×4 256→256', ...convDw([64, 4, 4, 256], [1, 1, 256, 256], 1, [64, 4, 4, 256])],
  ['depthwise dW 64×16×16×32, 3×3', ...dwDw([64, 16, 16, 32], 3, 1, [64, 16, 16, 32])],
  ['depthwise dW 64×16×16×64, 3×3 s2', ...dwDw([64, 16, 16, 64], 3, 2, [64, 8, 8, 64])],
  ['GreaterEqual 64×16×16×64 ≥ 0', () => ({ a: t([64, 16, 16, 64], 1), b: tf.scalar(0) }), 'GreaterEqual', {}],
  ['LogicalAnd 64×16×16×64', () => ({ a: tf.greaterEqual(t([64, 16, 16, 64], 1), 0), b: tf.lessEqual(t([64, 16, 16, 64], 2), 0.5) }), 'LogicalAnd', {}],
  ['Select 64×16×16×64', () => ({ condition: tf.greaterEqual(t([64, 16, 16, 64], 1), 0), t: t([64, 16, 16, 64], 2), e: tf.zeros([64, 16, 16, 64]) }), 'Select', {}],
  ['FusedBatchNorm 64×16×16×64', () => ({ x: t([64, 16, 16, 64], 1), mean: t([64], 2), variance: t([64], 3, 0.5, 2), offset: t([64], 4), scale: t([64], 5) }), 'FusedBatchNorm', { varianceEpsilon: 1e-3 }],
  ['MaxPoolGrad 64×32×32×32, 2×2 s2 (CNN pool 1)', () => ({ input: t([64, 32, 32, 32], 1), dy: t([64, 16, 16, 32], 2) }), 'MaxPoolGrad', { filterSize: [2, 2], strides: [2, 2], pad: 'valid' }],
  ['batch norm gradient (all five) 64×16×16×64', () => ({ x: t([64, 16, 16, 64], 1), mean: t([64], 2), variance: t([64], 3, 0.5, 2), offset: t([64], 4), scale: t([64], 5) }),
    (i) => tf.grads((x, m, v, o, s) => tf.batchNorm(x, m, v, o, s, 1e-3).sum())([i.x, i.mean, i.variance, i.offset, i.scale]), {}],
  ['Sum over [0,1,2] of 64×8×8×128', () => ({ x: t([64, 8, 8, 128], 1) }), 'Sum', { axis: [0, 1, 2], keepDims: false }],
];

console.log(`SIMD kernels vs before (one thread): ${REPS} interleaved runs per side; load average ${loadAverage()}; ${new Date().toISOString()}`);
console.log('| kernel | ours min / median (ms) | before min / median (ms) | paired ratio before/ours (median) |\n| --- | ---: | ---: | ---: |');
for (const [name, make, kernel, attrs] of CASES) {
  const inputs = make();
  const times = { '1': [], '0': [] };
  for (let r = 0; r < REPS + 2; r++) {
    for (const mode of r % 2 ? ['0', '1'] : ['1', '0']) {
      process.env.LOSS_LENS_SIMD_KERNELS = mode;
      const t0 = performance.now();
      const out = typeof kernel === 'function' ? kernel(inputs) : tf.engine().runKernel(kernel, inputs, attrs);
      const ms = performance.now() - t0;
      tf.dispose(out);
      if (r >= 2) times[mode].push(ms);
    }
  }
  const ratios = times['0'].map((b, i) => b / times['1'][i]);
  const f = (xs) => `${Math.min(...xs).toFixed(2)} / ${median(xs).toFixed(2)}`;
  console.log(`| ${name} | ${f(times['1'])} | ${f(times['0'])} | ×${median(ratios).toFixed(2)} |`);
  for (const v of Object.values(inputs)) v.dispose();
}
console.log(`load average after: ${loadAverage()}`);
