import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { runInChild } from './helpers/child-tfjs';
import { describeCase, outputSize, randomConvCase, type ConvCase } from './helpers/conv-cases';
import { baseSeed, SeededRandom } from './helpers/seeded-random';
import { expectClose, loadWasmTfjs, onWasmAndCpu } from './helpers/wasm-tfjs';
import { SIMD_WASM_FILES, simdKernelsFor } from '../src/simd/simd-module';
import type { WasmModuleLike } from '../src/wasm-kernels/wasm-backend-handle';
import type { Tensor, Tf } from './helpers/tfjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SIMD_DIR = path.join(ROOT, 'src/simd');

let tf: Tf;
beforeAll(async () => {
  ({ tf } = await loadWasmTfjs());
});

/** The WebAssembly JS API (the tests' lib declares its types but not the global). */
const WA = (globalThis as unknown as {
  WebAssembly: {
    Module: { new (bytes: Uint8Array): object; imports(m: object): Array<{ module: string; name: string; kind: string }> };
    Memory: new (d: { initial: number; maximum: number; shared: boolean }) => { buffer: ArrayBuffer };
    Instance: new (m: object, imports: object) => object;
  };
}).WebAssembly;

const backendModule = () => (tf.backend() as unknown as { wasm: WasmModuleLike }).wasm;

describe('the SIMD kernels binary', () => {
  it('is exactly what its AssemblyScript source builds to', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts/build-simd-kernels.mjs'), '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });

  it('imports the backend heap and nothing else, and writes nothing into it when instantiated', () => {
    for (const [kind, file] of Object.entries(SIMD_WASM_FILES)) {
      const module = new WA.Module(readFileSync(path.join(SIMD_DIR, file)));
      expect(WA.Module.imports(module), file).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
      const memory = new WA.Memory({ initial: 1, maximum: 65536, shared: kind === 'shared' });
      const bytes = new Uint8Array(memory.buffer);
      bytes.fill(0xab);
      new WA.Instance(module, { env: { memory } });
      expect(bytes.every((b) => b === 0xab), `${file} has data segments`).toBe(true);
    }
  });

  it('runs on the wasm backend this process uses', () => {
    expect(simdKernelsFor(backendModule())).not.toBeNull();
    expect(simdKernelsFor(backendModule(), { LOSS_LENS_SIMD_KERNELS: '0' })).toBeNull();
  });
});

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function shapes(c: ConvCase) {
  const oh = outputSize(c.height, c.kernel[0], c.strides[0], c.dilations[0], c.pad, 0);
  const ow = outputSize(c.width, c.kernel[1], c.strides[1], c.dilations[1], c.pad, 1);
  return {
    x: [c.batch, c.height, c.width, c.inChannels] as [number, number, number, number],
    filter: [c.kernel[0], c.kernel[1], c.inChannels, c.outChannels],
    dy: [c.batch, oh, ow, c.outChannels] as [number, number, number, number],
  };
}

/** dW on the current backend; cpu has no dilation, so there a dilated filter is a larger one with zero taps between. */
function filterGrad(c: ConvCase, xv: Float32Array, dyv: Float32Array): Tensor {
  const s = shapes(c);
  const x = tf.tensor4d(xv, s.x);
  const dy = tf.tensor4d(dyv, s.dy);
  const dilated = c.dilations[0] > 1 || c.dilations[1] > 1;
  if (dilated && tf.getBackend() === 'cpu') {
    const [kh, kw] = c.kernel;
    const [dh, dw] = c.dilations;
    const wide = [(kh - 1) * dh + 1, (kw - 1) * dw + 1, c.inChannels, c.outChannels];
    const full = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
      strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: wide,
    } as never) as Tensor;
    return tf.stridedSlice(full, [0, 0, 0, 0], wide, [dh, dw, 1, 1]);
  }
  return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
    strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: s.filter, dilations: c.dilations,
  } as never) as Tensor;
}

/**
 * Cases that reach every path of the kernel: input channels that are and are not a multiple of
 * its 4-row panels, output channels past its 8-column panels, several reduction chunks (256 output
 * pixels each), strides, dilations and every kind of padding.
 */
function wideCase(rng: SeededRandom): ConvCase {
  for (;;) {
    const base = randomConvCase(rng, { dilate: true, maxChannels: 20 });
    const c = { ...base, batch: rng.int(1, 6), height: rng.int(1, 24), width: rng.int(1, 24) };
    const { dy } = shapes(c);
    if (dy[1] >= 1 && dy[2] >= 1) return c;
  }
}

const CASES = 40;

describe('Conv2DBackpropFilter in the SIMD kernel matches cpu (1e-4 relative)', () => {
  for (let n = 0; n < CASES; n++) {
    const seed = baseSeed() + 5000 + n;
    const rng = new SeededRandom(seed);
    const c = wideCase(rng);
    const s = shapes(c);
    const xv = rng.floats(size(s.x));
    const dyv = rng.floats(size(s.dy));
    it(describeCase(c, seed), async () => {
      const { wasm, cpu } = await onWasmAndCpu(tf, () => filterGrad(c, xv, dyv));
      expectClose(wasm[0], cpu[0], describeCase(c, seed));
    });
  }

  it('over many reduction chunks (16×12×12×16, 5×5 → 24: 10 chunks)', async () => {
    const c: ConvCase = { batch: 16, height: 12, width: 12, inChannels: 16, outChannels: 24, kernel: [5, 5], strides: [1, 1], dilations: [1, 1], pad: 'same' };
    const rng = new SeededRandom(baseSeed() + 6000);
    const s = shapes(c);
    const xv = rng.floats(size(s.x));
    const dyv = rng.floats(size(s.dy));
    const { wasm, cpu } = await onWasmAndCpu(tf, () => filterGrad(c, xv, dyv));
    expectClose(wasm[0], cpu[0], '10 chunks');
  });
});

describe('the shared-memory build (threaded wasm)', () => {
  it('gives cpu\'s filter gradients too', async () => {
    const rng = new SeededRandom(baseSeed() + 7000);
    const cases = Array.from({ length: 6 }, () => wideCase(rng));
    const data = cases.map((c) => ({ c, x: Array.from(rng.floats(size(shapes(c).x))), dy: Array.from(rng.floats(size(shapes(c).dy))) }));
    const body = `
      const cases = ${JSON.stringify(data.map(({ c, x, dy }) => ({ c, s: shapes(c), x, dy })))};
      const shared = tf.backend().wasm.HEAPU8.buffer instanceof SharedArrayBuffer;
      const out = cases.map(({ c, s, x, dy }) => Array.from(tf.engine().runKernel('Conv2DBackpropFilter',
        { x: tf.tensor4d(x, s.x), dy: tf.tensor4d(dy, s.dy) },
        { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: s.filter, dilations: c.dilations }).dataSync()));
      console.log(JSON.stringify({ shared, threads: tf.backend().wasm.tfjs.getThreadsCount(), out }));
    `;
    const run = await runInChild(body, 2);
    expect(run.code, run.stderr).toBe(0);
    const got = JSON.parse(run.stdout) as { shared: boolean; out: number[][] };
    expect(got.shared).toBe(true);
    await tf.setBackend('cpu');
    try {
      data.forEach(({ c, x, dy }, i) => {
        const want = tf.tidy(() => filterGrad(c, Float32Array.from(x), Float32Array.from(dy)).dataSync());
        expectClose({ shape: [want.length], values: got.out[i] }, { shape: [want.length], values: want }, describeCase(c, i));
      });
    } finally {
      await tf.setBackend('wasm');
    }
  });
});

/** Depthwise dW (multiplier 1); cpu has no dilation here either, so a dilated case is the wide filter's every dh-th tap. */
function depthwiseFilterGrad(c: ConvCase, xv: Float32Array, dyv: Float32Array): Tensor {
  const s = shapes({ ...c, outChannels: c.inChannels });
  const x = tf.tensor4d(xv, s.x);
  const dy = tf.tensor4d(dyv, s.dy);
  const [kh, kw] = c.kernel;
  const [dh, dw] = c.dilations;
  if ((dh > 1 || dw > 1) && tf.getBackend() === 'cpu') {
    const wide = [(kh - 1) * dh + 1, (kw - 1) * dw + 1, c.inChannels, 1];
    const full = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, {
      strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: wide, dilations: [1, 1],
    } as never) as Tensor;
    return tf.stridedSlice(full, [0, 0, 0, 0], wide, [dh, dw, 1, 1]);
  }
  return tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, {
    strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: [kh, kw, c.inChannels, 1], dilations: c.dilations,
  } as never) as Tensor;
}

describe('DepthwiseConv2dNativeBackpropFilter in the SIMD kernel (multiplier 1, channels in fours) matches cpu', () => {
  for (let n = 0; n < 24; n++) {
    const seed = baseSeed() + 9000 + n;
    const rng = new SeededRandom(seed);
    const base = wideCase(rng);
    const c: ConvCase = { ...base, inChannels: 4 * rng.int(1, 6), outChannels: 1 };
    const s = shapes({ ...c, outChannels: c.inChannels });
    const xv = rng.floats(size(s.x));
    const dyv = rng.floats(size(s.dy));
    it(describeCase(c, seed), async () => {
      const { wasm, cpu } = await onWasmAndCpu(tf, () => depthwiseFilterGrad(c, xv, dyv));
      expectClose(wasm[0], cpu[0], describeCase(c, seed));
    });
  }
});

describe('MaxPoolGrad in the SIMD kernel (channels in fours) matches cpu, ties and -Infinity included', () => {
  for (let n = 0; n < 24; n++) {
    const seed = baseSeed() + 9500 + n;
    const rng = new SeededRandom(seed);
    const shape: [number, number, number, number] = [rng.int(1, 3), rng.int(2, 12), rng.int(2, 12), 4 * rng.int(1, 5)];
    const pool: [number, number] = [rng.int(1, Math.min(3, shape[1])), rng.int(1, Math.min(3, shape[2]))];
    const strides: [number, number] = [rng.int(1, 3), rng.int(1, 3)];
    const pad = rng.pick(['same', 'valid'] as const);
    const ties = rng.next() < 0.5;
    const xv = Array.from(rng.floats(size(shape)), (v) => (ties ? Math.round(v * 2) : v));
    for (let i = 0; i < xv.length; i += 7) if (rng.next() < 0.3) xv[i] = -Infinity;
    const label = `seed ${seed}: maxPool x [${shape}] window ${pool} strides ${strides} ${pad}${ties ? ' with ties' : ''}`;
    it(label, async () => {
      const { wasm, cpu } = await onWasmAndCpu(tf, () => {
        const loss = (x: Tensor) => {
          const y = tf.maxPool(x as import('@tensorflow/tfjs').Tensor4D, pool, strides, pad);
          return y.mul(tf.range(1, 1 + size(y.shape)).reshape(y.shape)).sum();
        };
        return tf.grad(loss)(tf.tensor4d(xv, shape));
      });
      expectClose(wasm[0], cpu[0], label);
    });
  }
});
