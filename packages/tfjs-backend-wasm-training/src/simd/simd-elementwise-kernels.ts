import type { Attrs, TensorInfo, WasmBackendHandle, WasmTrainingKernel } from '../wasm-kernels/wasm-backend-handle';
import { simdKernelsFor, type SimdKernels } from './simd-module';

/**
 * Stock wasm runs its compare and logical kernels as C++ loops that, whenever one side is
 * broadcast (`x >= 0` against a scalar), build index vectors on the heap for every element: relu6's
 * gradient (GreaterEqual, LessEqual, LogicalAnd, Select) took ~60 ms of a MobileNet-style step. These
 * run the common cases (same shapes, or one side a single element) in our SIMD module, and hand every
 * other case to the stock kernel.
 */

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
const offset = (wasm: WasmBackendHandle, t: TensorInfo) => wasm.backend.getMemoryOffset(t.dataId);

/** The SIMD module, when these inputs are a case it handles (same shape, or one side of one element). */
function binaryCase(wasm: WasmBackendHandle, a: TensorInfo, b: TensorInfo, dtype: string): { simd: SimdKernels; shape: number[] } | null {
  if (a.dtype !== dtype || b.dtype !== dtype) return null;
  const na = size(a.shape);
  const nb = size(b.shape);
  if (na === 0 || nb === 0) return null;
  let shape: number[];
  if (sameShape(a.shape, b.shape)) shape = a.shape;
  else if (na === 1 || nb === 1) shape = wasm.tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  else return null;
  const simd = simdKernelsFor(wasm.backend.wasm);
  return simd ? { simd, shape } : null;
}

const COMPARISONS = { GreaterEqual: 0, LessEqual: 1, Greater: 2, Less: 3, Equal: 4, NotEqual: 5 } as const;

function comparisonKernel(kernelName: keyof typeof COMPARISONS): WasmTrainingKernel {
  return {
    kernelName,
    requires: [kernelName],
    run(wasm, { a, b }) {
      const c = binaryCase(wasm, a, b, 'float32');
      if (!c) return wasm.run(kernelName, { a, b });
      const out = wasm.backend.makeOutput(c.shape, 'bool');
      const na = size(a.shape);
      const nb = size(b.shape);
      c.simd.compareF32(COMPARISONS[kernelName], offset(wasm, a), na === 1 && nb !== 1 ? 1 : 0, offset(wasm, b), nb === 1 && na !== 1 ? 1 : 0, offset(wasm, out), size(c.shape));
      return out;
    },
  };
}

export const simdComparisonKernels: WasmTrainingKernel[] = (Object.keys(COMPARISONS) as Array<keyof typeof COMPARISONS>).map(comparisonKernel);

export const simdLogicalAndKernel: WasmTrainingKernel = {
  kernelName: 'LogicalAnd',
  requires: ['LogicalAnd'],
  run(wasm, { a, b }) {
    const c = binaryCase(wasm, a, b, 'bool');
    if (!c) return wasm.run('LogicalAnd', { a, b });
    const out = wasm.backend.makeOutput(c.shape, 'bool');
    const na = size(a.shape);
    const nb = size(b.shape);
    c.simd.logicalAnd(offset(wasm, a), na === 1 && nb !== 1 ? 1 : 0, offset(wasm, b), nb === 1 && na !== 1 ? 1 : 0, offset(wasm, out), size(c.shape));
    return out;
  },
};

export const simdSelectKernel: WasmTrainingKernel = {
  kernelName: 'Select',
  requires: ['Select'],
  run(wasm, { condition, t, e }) {
    const simd = simdKernelsFor(wasm.backend.wasm);
    const n = size(t.shape);
    if (!simd || n === 0 || t.dtype !== 'float32' || e.dtype !== 'float32' || condition.dtype !== 'bool' ||
        !sameShape(condition.shape, t.shape) || !sameShape(t.shape, e.shape)) {
      return wasm.run('Select', { condition, t, e });
    }
    const out = wasm.backend.makeOutput(t.shape, 'float32');
    simd.selectF32(offset(wasm, condition), offset(wasm, t), offset(wasm, e), offset(wasm, out), n);
    return out;
  },
};

/**
 * Batch norm with per-channel statistics (what tf.layers.batchNormalization runs, training and
 * inference): (x − mean)·scale/√(variance + ε) + offset, the channel factor computed once.
 */
export const simdFusedBatchNormKernel: WasmTrainingKernel = {
  kernelName: 'FusedBatchNorm',
  requires: ['FusedBatchNorm'],
  run(wasm, inputs, attrs) {
    const { x, mean, variance, offset: shift, scale } = inputs;
    const simd = simdKernelsFor(wasm.backend.wasm);
    const channels = x.shape[x.shape.length - 1] ?? 0;
    const perChannel = (t: TensorInfo | undefined) => !t || (t.dtype === 'float32' && t.shape.length === 1 && t.shape[0] === channels);
    const n = size(x.shape);
    if (!simd || n === 0 || x.dtype !== 'float32' || x.shape.length < 2 || ![mean, variance, shift, scale].every(perChannel) || !mean || !variance) {
      return wasm.run('FusedBatchNorm', inputs, attrs);
    }
    return batchNorm(wasm, simd, x, mean, variance, shift, scale, attrs);
  },
};

function batchNorm(
  wasm: WasmBackendHandle,
  simd: SimdKernels,
  x: TensorInfo,
  mean: TensorInfo,
  variance: TensorInfo,
  shift: TensorInfo | undefined,
  scale: TensorInfo | undefined,
  attrs: Attrs,
): TensorInfo {
  const channels = x.shape[x.shape.length - 1];
  const epsilon = typeof attrs.varianceEpsilon === 'number' ? attrs.varianceEpsilon : 0.001;
  const out = wasm.backend.makeOutput(x.shape, 'float32');
  const params = wasm.backend.makeOutput([2, channels], 'float32');
  try {
    const p = wasm.heapF32(params);
    const v = wasm.heapF32(variance);
    const s = scale ? wasm.heapF32(scale) : null;
    const o = shift ? wasm.heapF32(shift) : null;
    for (let c = 0; c < channels; c++) {
      // The factor in float32, as every tfjs backend computes it.
      p[c] = Math.fround((s ? s[c] : 1) * Math.fround(1 / Math.fround(Math.sqrt(Math.fround(v[c] + epsilon)))));
      p[channels + c] = o ? o[c] : 0;
    }
    const base = offset(wasm, params);
    simd.batchNormChannels(offset(wasm, x), offset(wasm, mean), base, base + 4 * channels, offset(wasm, out), size(x.shape) / channels, channels);
  } finally {
    wasm.free(params);
  }
  return out;
}
